/** PipelineDeps for tests, and jobs as the units of one event. */
import type { HelpCrunchClient } from '../../lib/helpcrunch/client';
import type { Ledger } from '../../lib/ledger';
import { createLookupResolver, type LookupResolver } from '../../lib/lookups/resolver';
import type { PipelineDeps } from '../../lib/pipeline';
import { unitsOf } from '../../lib/pipeline/units';
import type { EventRef, Job, Unit } from '../../lib/types';
import { freshLedger } from './ledger';

const noLookups = (): LookupResolver =>
  createLookupResolver({
    lookups: {},
    secrets: {
      get: () => {
        throw new Error('no lookup secret in this test');
      },
    },
  });

/** The given HelpCrunch client, a resolver for `lookups` (none by default), a fresh ledger unless a dry run. */
export async function pipelineWith(
  helpcrunch: HelpCrunchClient,
  options: { lookups?: LookupResolver; dryRun?: boolean; ledger?: Ledger; maxCustomers?: number } = {},
): Promise<PipelineDeps> {
  const dryRun = options.dryRun ?? false;
  return {
    helpcrunch,
    lookups: options.lookups ?? noLookups(),
    dryRun,
    ledger: dryRun ? undefined : (options.ledger ?? (await freshLedger())),
    maxCustomers: options.maxCustomers ?? 100,
  };
}

let events = 0;

/** The jobs as matched from one event (a new one each call unless given). */
export function unitsFor(jobs: Job[], event?: Partial<EventRef>): Unit[] {
  return unitsOf({ source: 'test', id: `evt-${++events}`, occurredAt: Date.now(), ...event }, jobs);
}
