import { enqueueUnits } from '../queue/enqueue';
import type { SqsApi } from '../queue/sqs-api';
import type { Dispatch } from './types';

/** Dispatch for `DISPATCH=queue`: one message per unit on the jobs queue, the count as the result. */
export function queueDispatch({ sqs, queueUrl }: { sqs: SqsApi; queueUrl: string }): Dispatch {
  return async (units, budget) => ({ dispatch: 'queue', queued: await enqueueUnits(units, { sqs, queueUrl, budget }) });
}
