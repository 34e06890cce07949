/** The EventBridge function end to end, with the shipped rules.yml, the sandbox and a local Secrets Manager. */
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import { eventBridgeEvent, lambdaContext } from './support/lambda-events';
import { useLocalLedger, type LocalLedger } from './support/ledger';
import { captureOutput, useLocalAws, type CapturedOutput } from './support/local-aws';

let sandbox: HelpCrunchSandbox;
let secrets: SecretsManagerEndpoint;
let handler: (event: EventBridgeEvent<string, unknown>, context: Context) => Promise<unknown>;
let output: CapturedOutput;
let ledger: LocalLedger;

beforeAll(async () => {
  sandbox = await startHelpCrunchSandbox({ apiKey: 'eb-test-key' });
  secrets = await startSecretsManagerEndpoint({ secrets: { 'helpcrunch-untag/api-key': 'eb-test-key' } });
  ledger = await useLocalLedger();
  useLocalAws({
    secretsUrl: secrets.url,
    helpcrunchUrl: sandbox.url,
    apiKeySecretId: 'helpcrunch-untag/api-key',
    // Events must stay out of the logs even when this asks for them.
    env: { POWERTOOLS_LOGGER_LOG_EVENT: 'true' },
  });
  output = captureOutput();
  ({ handler } = (await import('../functions/eventbridge')) as unknown as { handler: typeof handler });
});

afterAll(async () => {
  output.restore();
  await sandbox.close();
  await secrets.close();
});

// The tests share one event id: each test's event is new to the ledger.
beforeEach(async () => {
  sandbox.reset();
  await ledger.reset();
});

const tagsOf = (id: number) => sandbox.customer(id)?.tags.map((tag) => tag.name);

describe('EventBridge handler', () => {
  it('resolves with the results when the tags are removed', async () => {
    const event = eventBridgeEvent('billing.app', 'Subscription Cancelled', { account: { id: 'u-grace' } });

    await expect(handler(event, lambdaContext())).resolves.toEqual({
      results: [{ rule: 'churned', customerId: 1002, removed: ['Subscriber'], added: [], status: 'untagged' }],
    });
    expect(tagsOf(1002)).toEqual(['VIP']);
  });

  it('removes by HelpCrunch id with exactly one call', async () => {
    const event = eventBridgeEvent('crm.app', 'Account Closed', { helpcrunchId: '1004' });

    await expect(handler(event, lambdaContext())).resolves.toEqual({
      results: [{ rule: 'account-closed', customerId: 1004, removed: ['VIP', 'Lead'], added: [], status: 'untagged' }],
    });
    expect(sandbox.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /v1/customers/1004/tags']);
    expect(tagsOf(1004)).toEqual(['Subscriber']);
  });

  it('resolves with skipped results (nothing to retry) for an unknown customer', async () => {
    const event = eventBridgeEvent('crm.app', 'Account Closed', { helpcrunchId: 999999 });

    await expect(handler(event, lambdaContext())).resolves.toEqual({
      results: [
        {
          rule: 'account-closed',
          customerId: 999999,
          removed: [],
          added: [],
          status: 'skipped',
          reason: 'customer_not_found',
        },
      ],
    });
  });

  it('ignores a detail-type no rule lists', async () => {
    const event = eventBridgeEvent('billing.app', 'Invoice Paid', { account: { id: 'u-grace' } });

    await expect(handler(event, lambdaContext())).resolves.toEqual({ results: [] });
    expect(sandbox.requests).toEqual([]);
  });

  it('rejects as not retryable, naming rule and field, when the customer field is missing', async () => {
    const event = eventBridgeEvent('billing.app', 'Subscription Expired', { account: {} });

    await expect(handler(event, lambdaContext())).rejects.toThrow(
      /^not retryable: invalid_customer: .*churned.*account\.id/,
    );
    expect(sandbox.requests).toEqual([]);
  });

  it.each([
    ['a null event', null, 'An EventBridge event must be an object, not null'],
    ['a string event', 'Account Closed', 'An EventBridge event must be an object, not a string'],
    [
      'an event without a source',
      { id: 'e-1', 'detail-type': 'Account Closed', detail: {} },
      'An EventBridge event needs string id, source, detail-type and time',
    ],
    [
      'a null detail',
      { ...eventBridgeEvent('crm.app', 'Account Closed', null) },
      "An EventBridge event's detail must be a JSON object, not null",
    ],
    [
      'a string detail',
      { ...eventBridgeEvent('crm.app', 'Account Closed', '1004') },
      "An EventBridge event's detail must be a JSON object, not a string",
    ],
    [
      'an array detail',
      { ...eventBridgeEvent('crm.app', 'Account Closed', [1004]) },
      "An EventBridge event's detail must be a JSON object, not an array",
    ],
  ])('rejects %s as not retryable invalid_event, calling nobody', async (_, event, message) => {
    await expect(handler(event as EventBridgeEvent<string, unknown>, lambdaContext())).rejects.toThrow(
      `not retryable: invalid_event: ${message}`,
    );
    expect(sandbox.requests).toEqual([]);
  });

  it('never logs the event, even with POWERTOOLS_LOGGER_LOG_EVENT=true', async () => {
    await handler(
      eventBridgeEvent('billing.app', 'Subscription Cancelled', {
        account: { id: 'u-grace' },
        card: 'pan-4111-marker',
      }),
      lambdaContext(),
    );

    expect(output.text()).toContain('"rule":"churned"'); // the capture does see the handler's log lines
    expect(output.text()).not.toContain('Lambda invocation event');
    expect(output.text()).not.toContain('pan-4111-marker');
  });

  it('rejects as retryable when HelpCrunch is still failing at the end of the budget', async () => {
    sandbox.setFaults({ rate5xx: 1 });
    const event = eventBridgeEvent('crm.app', 'Account Closed', { helpcrunchId: 1001 });

    await expect(handler(event, lambdaContext(2600))).rejects.toThrow(
      /^retryable: helpcrunch_unavailable: HelpCrunch answered 500/,
    );
    expect(tagsOf(1001)).toEqual(['Lead', 'Trial user']);
  });
});
