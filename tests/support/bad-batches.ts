/**
 * Signed batches with one bad element first, in the middle or last, for the suite's rules: a request
 * with one bad element must be refused whole, before anything is sent anywhere.
 */
import { expect } from 'vitest';
import type { WebhookRequest } from './lambda-events';
import { crmRequest, stripeRequest, subscriptionDeleted } from './suite-events';

const lostDeal = (email: string) => ({ status: 'lost', person: { email } });

interface BadElement {
  /** What is wrong with the bad element. */
  problem: string;
  /** The suite source the batch is sent to, and the rule whose customer field refuses it. */
  source: 'stripe' | 'crm';
  rule: string;
  good: (index: number) => unknown;
  bad: unknown;
}

const badElements: BadElement[] = [
  {
    problem: 'a 600-character lookup id',
    source: 'stripe',
    rule: 'stripe-subscription-ended',
    good: (index) => subscriptionDeleted(`evt_good_${index}`, 'cus_Qh7GraceHopper'),
    bad: subscriptionDeleted('evt_bad', `cus_${'x'.repeat(596)}`),
  },
  {
    problem: 'a lone surrogate in an email',
    source: 'crm',
    rule: 'deal-lost',
    good: (index) => lostDeal(['ada@example.com', 'alan@example.com'][index % 2]!),
    // JSON.stringify writes the lone surrogate as the escape \ud800: valid JSON, not valid Unicode once read.
    bad: lostDeal('ada\uD800@example.com'),
  },
];

const positions = [
  ['first', 0],
  ['in the middle', 1],
  ['last', 2],
] as const;

export interface BadBatch {
  title: string;
  source: BadElement['source'];
  rule: string;
  /** Three payloads, one of them bad. */
  payloads: unknown[];
}

/** Every bad element at every position of a three-element batch. */
export const badBatches: BadBatch[] = badElements.flatMap(({ problem, source, rule, good, bad }) =>
  positions.map(([where, at]) => {
    const payloads = [good(0), good(1)];
    payloads.splice(at, 0, bad);
    return { title: `${problem} ${where}`, source, rule, payloads };
  }),
);

/** The batch as its source's sender signs it, with these signing secrets. */
export function signedBatch({ source, payloads }: BadBatch, secrets: { crm: string; stripe: string }): WebhookRequest {
  const body = JSON.stringify(payloads);
  return source === 'stripe' ? stripeRequest(body, secrets.stripe) : crmRequest(body, secrets.crm);
}

/** What refusing the batch answers: 400 with invalid_customer naming the rule whose customer field is bad. */
export const refusalOf = ({ rule }: BadBatch) => ({
  statusCode: 400,
  json: { errors: [{ code: 'invalid_customer', message: expect.stringContaining(`rule "${rule}"`) }] },
});
