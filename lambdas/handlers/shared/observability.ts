import { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME } from '../../../lib/topology';

/**
 * The one logger of a Lambda (JSON, with the trace id appended per invocation). Powertools reads
 * its level from POWERTOOLS_LOG_LEVEL, which the stack and the local runtime set.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME });
