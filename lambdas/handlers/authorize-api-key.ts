import type { APIGatewayRequestAuthorizerEventV2, APIGatewaySimpleAuthorizerWithContextResult } from 'aws-lambda';
import { AUTHORIZATION_FORMAT, bearerTokenOf } from '../core/merchants/api-keys';
import type { AuthorizerContext } from './shared/http';
import { logger } from './shared/observability';
import { merchantStore } from './shared/dependencies';

/**
 * HTTP API Lambda authorizer (simple responses, cached per Authorization header): resolves the
 * merchant behind a Bearer API key. A refused key is still "authorized" with an `authError`, so
 * the route answers a 401 problem document: API Gateway itself could only answer a bare 403.
 * Every route reads the merchant through `merchantIdOf`, which enforces the refusal.
 */
export const handler = async (
  event: APIGatewayRequestAuthorizerEventV2,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>> => {
  const token = bearerTokenOf(event.headers?.authorization ?? event.headers?.Authorization ?? event.identitySource?.[0]);
  if (!token) return refuse(AUTHORIZATION_FORMAT);
  const key = await merchantStore().findActiveApiKey(token);
  if (!key) return refuse('The API key is unknown or has been revoked');
  return { isAuthorized: true, context: { merchantId: key.merchantId } };
};

function refuse(authError: string): APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext> {
  logger.info('API key refused', { reason: authError });
  return { isAuthorized: true, context: { authError } };
}
