import { executeJobs, type PipelineDeps } from '../pipeline';
import type { Dispatch } from './types';

/** Dispatch for `DISPATCH=inline`: the trigger resolves the customers and changes their tags itself. */
export function inlineDispatch(pipeline: PipelineDeps): Dispatch {
  return async (jobs, _origin, budget) => ({ dispatch: 'inline', ...(await executeJobs(jobs, pipeline, budget)) });
}
