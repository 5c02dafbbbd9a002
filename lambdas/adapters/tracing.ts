import { Tracer } from '@aws-lambda-powertools/tracer';
import { SERVICE_NAME } from '../../lib/topology';

/**
 * The one X-Ray tracer of a Lambda; the AWS clients are captured through it, so every DynamoDB,
 * SQS and SNS call shows up as a subsegment of the invocation. Powertools disables it outside
 * Lambda (no `AWS_EXECUTION_ENV`) and when `POWERTOOLS_TRACE_ENABLED=false`, so the local runtime
 * and tests get plain clients and no X-Ray context errors.
 *
 * @example tracer.captureAWSv3Client(new SQSClient({}))
 */
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });
