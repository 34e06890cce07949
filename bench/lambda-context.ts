/**
 * A Lambda context whose remaining time runs down like Lambda's, from the function's timeout.
 * Imports nothing, so the cold-request probe can use it without loading a module the handler
 * would then get for free.
 */
import type { Context } from 'aws-lambda';

export function lambdaContext(
  functionName: string,
  timeoutMs: number,
  awsRequestId: string = globalThis.crypto.randomUUID(),
): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
