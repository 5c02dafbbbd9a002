import { FunctionUrlAuthType, InvokeMode, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { streamingRoutes } from '../topology';
import type { Functions } from './functions';

export interface RequestEventStreamProps {
  readonly functions: Functions;
}

/**
 * The streaming routes (`GET /v1/requests/{id}/events`): API Gateway's HTTP API buffers whole
 * responses, so each is served by a function URL in RESPONSE_STREAM mode. The URL has no IAM
 * auth because merchants call it with their API key, which the handler checks exactly as the
 * authorizer does (a revoked key is refused at once: there is no authorizer cache here).
 */
export class RequestEventStream extends Construct {
  readonly urls: ReadonlyMap<string, FunctionUrl>;

  constructor(scope: Construct, id: string, props: RequestEventStreamProps) {
    super(scope, id);
    const urls = new Map<string, FunctionUrl>();
    for (const route of streamingRoutes) {
      urls.set(
        route.output,
        props.functions.get(route.function).addFunctionUrl({ authType: FunctionUrlAuthType.NONE, invokeMode: InvokeMode.RESPONSE_STREAM }),
      );
    }
    this.urls = urls;
  }
}
