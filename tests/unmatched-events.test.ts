/**
 * An event no rule matches leaves a trace in production: one INFO line with its source and event
 * type; at DEBUG, each rule's reason. And an event that matches logs neither.
 */
import { createHmac } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHelpCrunchSandbox, type HelpCrunchSandbox } from '../local/sandbox/helpcrunch-sandbox';
import { startSecretsManagerEndpoint, type SecretsManagerEndpoint } from '../local/sandbox/secrets-manager-endpoint';
import { eventBridgeEvent, lambdaContext, webhookEvent } from './support/lambda-events';
import { useLocalLedger } from './support/ledger';
import { captureOutput, useLocalAws, type CapturedOutput } from './support/local-aws';

const CRM_SECRET = 'crm-signing-secret';
type Handler = (event: unknown, context: Context) => Promise<unknown>;
let sandbox: HelpCrunchSandbox;
let secrets: SecretsManagerEndpoint;
let webhook: Handler;
let eventbridge: Handler;
let output: CapturedOutput;
let mark = 0;

beforeAll(async () => {
  sandbox = await startHelpCrunchSandbox({ apiKey: 'key' });
  secrets = await startSecretsManagerEndpoint({
    secrets: {
      'helpcrunch-untag/api-key': 'key',
      'helpcrunch-untag/crm-webhook': CRM_SECRET,
      'helpcrunch-untag/billing-webhook': `whsec_${Buffer.from('x').toString('base64')}`,
    },
  });
  await useLocalLedger();
  useLocalAws({
    secretsUrl: secrets.url,
    helpcrunchUrl: sandbox.url,
    apiKeySecretId: 'helpcrunch-untag/api-key',
    env: { POWERTOOLS_LOG_LEVEL: 'DEBUG', DISPATCH: 'inline' },
  });
  output = captureOutput();
  ({ handler: webhook } = (await import('../functions/webhook')) as unknown as { handler: Handler });
  ({ handler: eventbridge } = (await import('../functions/eventbridge')) as unknown as { handler: Handler });
});

afterAll(async () => {
  output.restore();
  await sandbox.close();
  await secrets.close();
});

beforeEach(() => {
  mark = output.text().length;
});

/** The JSON log lines written since the test began. */
const logLines = () =>
  output
    .text()
    .slice(mark)
    .split('\n')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });

function crm(payload: unknown) {
  const body = JSON.stringify(payload);
  return webhookEvent('http-api', {
    source: 'crm',
    body,
    headers: { 'X-Signature': `sha256=${createHmac('sha256', CRM_SECRET).update(body).digest('hex')}` },
  });
}

describe('an event no rule matches', () => {
  it('logs one INFO line with the webhook source, and the reasons at DEBUG', async () => {
    const response = (await webhook(
      crm({ status: 'won', person: { email: 'ada@example.com' } }),
      lambdaContext(),
    )) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(200);
    const lines = logLines();
    expect(lines.filter((line) => line.message === 'no rule matched')).toEqual([
      expect.objectContaining({ level: 'INFO', source: 'crm' }),
    ]);
    // The crm source has no event type: the line says none (Powertools leaves null keys out).
    expect(lines.find((line) => line.message === 'no rule matched')).not.toHaveProperty('eventType');
    expect(lines.find((line) => line.message === 'rule reasons')).toMatchObject({
      level: 'DEBUG',
      rules: [
        {
          rule: 'deal-lost',
          matched: false,
          failed: 'when',
          when: { expression: "status == 'lost'", value: false, ok: false },
        },
      ],
    });
  });

  it('logs the EventBridge source and detail-type', async () => {
    await eventbridge(
      eventBridgeEvent('billing.app', 'Subscription Renewed', { account: { id: 'u-ada' } }),
      lambdaContext(),
    );
    expect(logLines().filter((line) => line.message === 'no rule matched')).toEqual([
      expect.objectContaining({ source: 'billing.app', eventType: 'Subscription Renewed' }),
    ]);
  });

  it('is not logged when a rule matches', async () => {
    await webhook(crm({ status: 'lost', person: { email: 'ada@example.com' } }), lambdaContext());
    const messages = logLines().map((line) => line.message);
    expect(messages).toContain('job untagged');
    expect(messages).not.toContain('no rule matched');
  });
});
