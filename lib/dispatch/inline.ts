import { executeUnits, type PipelineDeps } from '../pipeline';
import type { Dispatch } from './types';

/** Dispatch for `DISPATCH=inline`: the trigger resolves the customers and changes their tags itself. */
export function inlineDispatch(pipeline: PipelineDeps): Dispatch {
  return async (units, budget) => ({ dispatch: 'inline', ...(await executeUnits(units, pipeline, budget)) });
}
