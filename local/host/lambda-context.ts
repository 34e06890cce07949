/** A Lambda context as the Node.js runtime builds it: the clock counts down to the invocation's deadline. */
import type { Context } from 'aws-lambda';

export interface LambdaContextOptions {
  functionName: string;
  requestId: string;
  /** Epoch ms at which Lambda would stop the invocation. */
  deadlineMs: number;
  memoryMb: number;
  region: string;
}

export function createLambdaContext({
  functionName,
  requestId,
  deadlineMs,
  memoryMb,
  region,
}: LambdaContextOptions): Context {
  const unsupported = () => {
    throw new Error('The callback-style context methods are not supported; return or throw instead');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${requestId.slice(0, 8)}`,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
