/**
 * `npm start -- --dry-run`: the local stack passes DRY_RUN to the functions, which then run
 * everything (verify, match, the lookup through the vendor stand-in, the search) but HelpCrunch's
 * writes; the readable log and the banner say so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { banner } from '../local/host/banner';
import { loadSamples } from '../local/host/samples';
import { startLocalStack, type LocalStack } from '../local/host/local-stack';
import { demoSigningSecret, signWebhook, type SecretVerifyConfig } from '../local/host/webhook-signing';
import { subscriptionDeleted } from './support/suite-events';
import { SUITE_RULES } from './support/suite-rules';

let stack: LocalStack;
const logged: string[] = [];

beforeAll(async () => {
  stack = await startLocalStack({
    env: {},
    rulesFile: SUITE_RULES,
    dispatch: 'inline',
    dryRun: true,
    functions: ['webhook'],
    write: (text) => logged.push(text),
  });
});
afterAll(() => stack?.close());

describe('a dry run of the local stack', () => {
  it('looks the Stripe customer up and searches, changes no tag, and answers would_untag', async () => {
    const body = JSON.stringify(subscriptionDeleted('evt_dry_run', 'cus_Qh7GraceHopper'));
    const verify = stack.rules.sources.stripe!.verify as SecretVerifyConfig;
    const response = await fetch(`${stack.hostUrl}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signWebhook(verify, demoSigningSecret(verify), body) },
      body,
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      results: [
        {
          rule: 'stripe-subscription-ended',
          customerId: 1002,
          removed: ['Subscriber'],
          added: ['Churned'],
          status: 'would_untag',
        },
      ],
    });
    expect(stack.vendorApis!.requests.map((request) => request.path)).toEqual(['/v1/customers/cus_Qh7GraceHopper']);
    expect(stack.sandbox!.requests.map((request) => request.method)).toEqual(['POST']);
    expect(stack.sandbox!.customer(1002)!.tags.map((tag) => tag.name)).toEqual(['Subscriber', 'VIP']);
    await expect
      .poll(() => logged.join(''))
      .toMatch(
        /○ would_untag {2}stripe-subscription-ended {2}customer 1002 {2}− Subscriber {2}\+ Churned {2}2 requests/,
      );
  });

  it('says so in the banner', () => {
    expect(stack.dryRun).toBe(true);
    expect(banner(stack, loadSamples(SUITE_RULES, stack.rules))).toContain('Dry run: HelpCrunch gets no PUT or DELETE');
  });
});
