/**
 * How often a unit of work was really attempted. On a FIFO queue, SQS's receive count also counts
 * the receives of messages returned unprocessed behind a failed message of their group, so the
 * worker counts its own attempts here (only when one fails: the happy path writes nothing) and
 * dead-letters a message after MAX_RECEIVE_COUNT real attempts.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { callSignal, type LedgerTableOptions, ledgerFailure } from './dynamodb';
import { expiresAtSeconds, KEY_ATTRIBUTES } from './keys';

export interface AttemptLedger {
  /** Counts one failed attempt of the unit `unitKey`; resolves with the count so far. */
  failed(unitKey: string, budget: { remainingMs(): number }): Promise<number>;
}

/** As long as a message can live: the dead-letter queue's 14 days. */
const ATTEMPT_DAYS = 14;

export function createAttemptLedger({ client, tableName, now = () => Date.now() }: LedgerTableOptions): AttemptLedger {
  const { partition, sort, expiresAt } = KEY_ATTRIBUTES;
  return {
    async failed(unitKey, budget) {
      try {
        const { Attributes } = await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: marshall({ [partition]: `attempts#${unitKey}`, [sort]: 'attempts' }),
            UpdateExpression: 'ADD #n :one SET #exp = :exp',
            ExpressionAttributeNames: { '#n': 'attempts', '#exp': expiresAt },
            ExpressionAttributeValues: marshall({ ':one': 1, ':exp': expiresAtSeconds(now(), ATTEMPT_DAYS) }),
            ReturnValues: 'UPDATED_NEW',
          }),
          { abortSignal: callSignal(budget) },
        );
        return Number(Attributes ? unmarshall(Attributes).attempts : 1);
      } catch (error) {
        throw ledgerFailure('UpdateItem', error);
      }
    },
  };
}
