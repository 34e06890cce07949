/**
 * The shipped examples (examples/<name>/): a rules.yml fragment and the Lambda event it handles,
 * an API Gateway HTTP API webhook event or an EventBridge event. `npm start`'s banner, `npm run demo`
 * and the tests all send these, so what the README promises is what gets exercised.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, EventBridgeEvent } from 'aws-lambda';
import { loadRulesFile } from '../../tooling/rules/load';
import type { RuleConfig, RulesConfig } from '../../lib/rules/types';
import { PROJECT_ROOT } from './serverless-config';

export const EXAMPLES_DIR = join(PROJECT_ROOT, 'examples');

interface ExampleBase {
  /** The directory name. */
  name: string;
  /** examples/<name>/rules.yml */
  rules: RulesConfig;
  /** The rule the example shows (the fragment's first). */
  rule: RuleConfig;
}

export interface WebhookExample extends ExampleBase {
  kind: 'webhook';
  event: APIGatewayProxyEventV2;
  source: string;
  /** The decoded body, exactly as signed. */
  body: string;
}

export interface EventBridgeExample extends ExampleBase {
  kind: 'eventbridge';
  event: EventBridgeEvent<string, unknown>;
}

export type Example = WebhookExample | EventBridgeExample;

function readExample(dir: string, name: string): Example {
  const rules = loadRulesFile(join(dir, name, 'rules.yml'));
  const event = JSON.parse(readFileSync(join(dir, name, 'event.json'), 'utf8')) as Record<string, unknown>;
  const base = { name, rules, rule: rules.rules[0]! };
  if ('detail-type' in event) return { ...base, kind: 'eventbridge', event: event as unknown as EventBridgeEvent<string, unknown> };
  const http = event as unknown as APIGatewayProxyEventV2;
  const source = http.pathParameters?.source;
  if (!source || http.body === undefined) throw new Error(`examples/${name}/event.json: expected a webhook event with pathParameters.source and a body, or an EventBridge event`);
  const body = http.isBase64Encoded ? Buffer.from(http.body, 'base64').toString('utf8') : http.body;
  return { ...base, kind: 'webhook', event: http, source, body };
}

/**
 * The examples the local stack runs against the sandbox's demo customers (and, for lookups, the
 * vendor API stand-ins' records); their entries ship in rules.yml. The other vendor examples are
 * setup guides for senders whose entries a user copies into their own rules.yml.
 */
export const LOCAL_EXAMPLES: ReadonlySet<string> = new Set([
  'billing-subscription-cancelled',
  'crm-deal-lost',
  'eventbridge-subscription-cancelled',
  'stripe-customer-subscription-deleted',
]);

/** Every local example, in directory-name order. */
export function loadExamples(dir: string = EXAMPLES_DIR): Example[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && LOCAL_EXAMPLES.has(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((name) => readExample(dir, name));
}
