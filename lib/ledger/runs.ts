/**
 * What the workers finished of each backfill run (scripts/backfill.ts), counted where the CLI can
 * read it: one item per run (`run#<id>`), each count a top-level number the workers ADD to (one
 * UpdateItem per run per batch), so instances never overwrite each other's counts. A run's
 * progress is what the workers really settled, not what the CLI sent:
 *   units                     messages settled for good (done, or in the dead-letter queue)
 *   o:[rule,status,reason]    jobs per rule and outcome (a job naming two customers counts twice)
 *   f:[rule,reason]           one failure's message per rule and reason, the first one met
 * A message that comes back after it was counted (its invocation died after the count) is counted
 * again, as the duplicate_event it then is: the counts can run ahead of the rows, never behind.
 */
import { GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { OutcomeStatus } from '../types';
import { FAILURE, OUTCOME, type RunOutcome, type RunTally } from './run-tally';
import { callSignal, type LedgerTableOptions, ledgerFailure } from './dynamodb';
import { expiresAtSeconds, KEY_ATTRIBUTES } from './keys';

export interface RunProgress {
  /** Messages settled for good: done, or dead-lettered. */
  units: number;
  outcomes: (RunOutcome & { count: number })[];
  /** The first failure's message per rule and reason. */
  failures: { rule: string; reason: string; detail: string }[];
}

export interface RunLedger {
  /** Adds the tally to the run's counts. */
  record(runId: string, tally: RunTally, budget: { remainingMs(): number }): Promise<void>;
  /** The run's counts so far; undefined before anything of it was settled. */
  read(runId: string, budget: { remainingMs(): number }): Promise<RunProgress | undefined>;
}

/** As long as a backfill's messages can live (14 days), and a while to read the result after. */
const RUN_DAYS = 30;

const { partition, sort, expiresAt } = KEY_ATTRIBUTES;
const keyOf = (runId: string) => marshall({ [partition]: `run#${runId}`, [sort]: 'counts' });

export function createRunLedger({ client, tableName, now = () => Date.now() }: LedgerTableOptions): RunLedger {
  return {
    async record(runId, tally, budget) {
      const names: Record<string, string> = { '#units': 'units', '#exp': expiresAt };
      const values: Record<string, unknown> = { ':units': tally.units, ':exp': expiresAtSeconds(now(), RUN_DAYS) };
      const adds = ['#units :units'];
      [...tally.outcomes].forEach(([attribute, count], index) => {
        names[`#o${index}`] = attribute;
        values[`:o${index}`] = count;
        adds.push(`#o${index} :o${index}`);
      });
      const sets = ['#exp = :exp'];
      [...tally.failures].forEach(([attribute, detail], index) => {
        names[`#f${index}`] = attribute;
        values[`:f${index}`] = detail;
        sets.push(`#f${index} = if_not_exists(#f${index}, :f${index})`);
      });
      try {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: keyOf(runId),
            UpdateExpression: `ADD ${adds.join(', ')} SET ${sets.join(', ')}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: marshall(values),
          }),
          { abortSignal: callSignal(budget) },
        );
      } catch (error) {
        throw ledgerFailure('UpdateItem', error);
      }
    },
    async read(runId, budget) {
      let item: Record<string, unknown> | undefined;
      try {
        const { Item } = await client.send(
          new GetItemCommand({ TableName: tableName, Key: keyOf(runId), ConsistentRead: true }),
          { abortSignal: callSignal(budget) },
        );
        item = Item && unmarshall(Item);
      } catch (error) {
        throw ledgerFailure('GetItem', error);
      }
      return item && progressOf(item);
    },
  };
}

function progressOf(item: Record<string, unknown>): RunProgress {
  const progress: RunProgress = { units: Number(item.units ?? 0), outcomes: [], failures: [] };
  for (const [attribute, value] of Object.entries(item)) {
    if (attribute.startsWith(OUTCOME)) {
      const [rule, status, reason] = JSON.parse(attribute.slice(OUTCOME.length)) as [string, OutcomeStatus, string];
      progress.outcomes.push({ rule, status, ...(reason && { reason }), count: Number(value) });
    } else if (attribute.startsWith(FAILURE)) {
      const [rule, reason] = JSON.parse(attribute.slice(FAILURE.length)) as [string, string];
      progress.failures.push({ rule, reason, detail: String(value) });
    }
  }
  return progress;
}
