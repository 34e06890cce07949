/**
 * The ledger table's key shape (serverless.yml LedgerTable: `pk` + `sk`, TTL on `expiresAt`) and
 * the expiry DynamoDB's TTL reads. Values that can be long (a sender's event id, an email, a tag
 * name) become keys through lib/digest.ts: a DynamoDB key is at most 2 KB.
 */
export const KEY_ATTRIBUTES = { partition: 'pk', sort: 'sk', expiresAt: 'expiresAt' } as const;

/** DynamoDB's TTL reads seconds since the epoch. */
export const expiresAtSeconds = (nowMs: number, days: number): number => Math.ceil(nowMs / 1000 + days * 86_400);
