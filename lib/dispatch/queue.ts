import { enqueueJobs } from '../queue/enqueue';
import type { SqsApi } from '../queue/sqs-api';
import type { Dispatch } from './types';

/** Dispatch for `DISPATCH=queue`: one message per job on the jobs queue, the count as the result. */
export function queueDispatch({ sqs, queueUrl }: { sqs: SqsApi; queueUrl: string }): Dispatch {
  return async (jobs, origin, budget) => ({
    dispatch: 'queue',
    queued: await enqueueJobs(jobs, { sqs, queueUrl, origin, budget }),
  });
}
