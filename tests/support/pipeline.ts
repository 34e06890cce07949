/** PipelineDeps for tests: the given HelpCrunch client, a resolver for `lookups` (none by default), a real run unless dryRun. */
import type { HelpCrunchClient } from '../../lib/helpcrunch/client';
import { createLookupResolver, type LookupResolver } from '../../lib/lookups/resolver';
import type { PipelineDeps } from '../../lib/pipeline';

const noLookups = (): LookupResolver =>
  createLookupResolver({
    lookups: {},
    secrets: {
      get: () => {
        throw new Error('no lookup secret in this test');
      },
    },
  });

export function pipelineWith(
  helpcrunch: HelpCrunchClient,
  options: { lookups?: LookupResolver; dryRun?: boolean } = {},
): PipelineDeps {
  return { helpcrunch, lookups: options.lookups ?? noLookups(), dryRun: options.dryRun ?? false };
}
