/**
 * rules.schema.json, built from the validator's own tables so the two cannot drift apart: editors
 * (`# yaml-language-server: $schema=./rules.schema.json`) complete keys and flag structural
 * mistakes while typing; the validator still has the last word (JMESPath syntax, references
 * between sections, conflicts), with messages naming the rule and field.
 * `npm run rules-schema` writes the file; tests/rules-schema.test.ts checks it is current.
 */
import { LOOKUP_PRESETS } from '../../lib/rules/types';
import { AUTH_KINDS, DEFAULT_CACHE_SECONDS, GENERIC_KEYS, LOOKUP_NAME, PRESET_KEYS, SELECT_KEYS } from './lookups';
import { HEADER_NAME, SECRET_ID } from './report';
import { DIRECT_KEYS, MAX_TAGS, RULE_KEYS } from './rule';
import { BUS, EVENT_SOURCE_KEYS, SOURCE_KEYS, SOURCE_NAME } from './sources';
import { TOP_KEYS } from './validate';
import { SCHEME_NAMES } from './verify';

type Schema = Record<string, unknown>;

const pattern = (regex: RegExp, description: string): Schema => ({
  type: 'string',
  pattern: regex.source,
  description,
});
const expression = (description: string): Schema => ({
  type: 'string',
  minLength: 1,
  description: `JMESPath: ${description}`,
});
const nameList = (description: string, max?: number): Schema => ({
  type: 'array',
  items: { type: 'string', minLength: 1 },
  uniqueItems: true,
  ...(max !== undefined && { maxItems: max }),
  description,
});
const oneOrMany = (description: string): Schema => ({
  anyOf: [{ type: 'string', minLength: 1 }, nameList(description)],
  description,
});
const closed = (properties: Record<string, Schema>, required: readonly string[] = []): Schema => ({
  type: 'object',
  properties,
  ...(required.length > 0 && { required: [...required] }),
  additionalProperties: false,
});
/** Only the keys the validator knows, each described. */
function pick(keys: readonly string[], known: Record<string, Schema>): Record<string, Schema> {
  return Object.fromEntries(
    keys.map((key) => {
      if (!known[key]) throw new Error(`rules schema: no description of key '${key}'`);
      return [key, known[key]];
    }),
  );
}

const secretId = pattern(SECRET_ID, 'Secrets Manager secret name or ARN');

/** One closed alternative per scheme name, from the scheme's own option schemas. */
function verifySchema(): Schema {
  return {
    description: 'How requests from this source are authenticated',
    oneOf: [...SCHEME_NAMES].map(([name, { scheme, required, optional }]) =>
      closed(
        {
          scheme: { const: name },
          ...pick([...required, ...optional], scheme.options.properties as Record<string, Schema>),
        },
        ['scheme', ...required],
      ),
    ),
  };
}

/** Where a source carries `what`: a request header, or a field of the payload (default: its scheme's). */
const selector = (what: string): Schema => ({
  description: `Where this source's ${what} is: a request header, or a field of the payload (default: the scheme's, see docs/senders.md)`,
  oneOf: [
    closed({ header: pattern(HEADER_NAME, `HTTP header carrying the ${what}`) }, ['header']),
    closed({ field: expression(`the ${what} in the payload`) }, ['field']),
  ],
});
const SOURCE_FIELDS: Record<string, Schema> = {
  eventType: selector('event type'),
  eventId: selector('event id (the same on every retry of the event)'),
  occurredAt: selector('event time (ISO 8601, or unix seconds or milliseconds)'),
};

const cacheSeconds: Schema = {
  type: 'integer',
  minimum: 0,
  maximum: 86_400,
  description: `seconds an answer is reused (default ${DEFAULT_CACHE_SECONDS}; 0: never)`,
};
const LOOKUP_FIELDS: Record<string, Schema> = {
  preset: { enum: [...LOOKUP_PRESETS], description: 'the vendor API to ask: it knows the endpoint and what to select' },
  baseUrl: {
    type: 'string',
    format: 'uri',
    description: "the API's origin when not the vendor's default (https, or http to a loopback host)",
  },
  url: {
    type: 'string',
    pattern: '\\{id\\}',
    description: 'https URL with one {id}: a whole path segment or query value',
  },
  auth: {
    description: 'how the secret is sent',
    oneOf: AUTH_KINDS.map((kind) =>
      closed(
        {
          [kind]:
            kind === 'bearer' || kind === 'basic'
              ? { const: true }
              : {
                  type: 'string',
                  minLength: 1,
                  description: kind === 'header' ? 'header name' : 'query parameter name',
                },
          secretId,
        },
        [kind],
      ),
    ),
  },
  secretId,
  select: {
    description: "what in the API's JSON answer names the HelpCrunch customer",
    oneOf: SELECT_KEYS.map((key) => closed({ [key]: expression(`the ${key} in the answer`) }, [key])),
  },
  cacheSeconds,
};

const CUSTOMER_FIELDS: Record<string, Schema> = {
  helpcrunchId: expression("the HelpCrunch customer id (never the sender's own id)"),
  id: { ...expression('old name of helpcrunchId'), deprecated: true },
  email: expression("the customer's email"),
  userId: expression("the customer's userId in HelpCrunch"),
  lookup: { type: 'string', minLength: 1, description: 'a name under lookups' },
  from: expression("the sender's own id, handed to the lookup"),
};

const RULE_FIELDS: Record<string, Schema> = {
  name: { type: 'string', minLength: 1, description: 'unique; appears in logs, metrics and replies' },
  source: oneOrMany('webhook sources (sources) and/or EventBridge sources (eventSources)'),
  eventType: oneOrMany("accepted event types: the webhook source's event type, or the EventBridge detail-type"),
  detailType: { ...oneOrMany('old name of eventType'), deprecated: true },
  when: expression('the rule applies when this is truthy'),
  customer: {
    description: 'whom the tag changes apply to',
    oneOf: [
      ...DIRECT_KEYS.map((key) => closed(pick([key], CUSTOMER_FIELDS), [key])),
      closed(pick(['id'], CUSTOMER_FIELDS), ['id']),
      closed(pick(['lookup', 'from'], CUSTOMER_FIELDS), ['lookup', 'from']),
    ],
  },
  removeTags: nameList('tag names to remove, case-sensitive', MAX_TAGS),
  addTags: nameList('tag names to add (created when missing), case-sensitive', MAX_TAGS),
};

export function rulesJsonSchema(): Schema {
  const rule: Schema = {
    ...closed(pick(RULE_KEYS, RULE_FIELDS), ['name', 'source', 'customer']),
    anyOf: [{ required: ['removeTags'] }, { required: ['addTags'] }],
  };
  const top: Record<string, Schema> = {
    sources: {
      type: ['object', 'null'],
      description: 'Webhook senders, each at POST /webhooks/<name>',
      propertyNames: { pattern: SOURCE_NAME.source },
      additionalProperties: closed(pick(SOURCE_KEYS, { verify: verifySchema(), ...SOURCE_FIELDS }), ['verify']),
    },
    eventSources: {
      type: ['object', 'null'],
      description: 'EventBridge sources the functions listen to, each on a bus',
      additionalProperties: {
        anyOf: [
          { type: 'null' },
          closed(pick(EVENT_SOURCE_KEYS, { bus: pattern(BUS, 'event bus name or ARN (default: default)') })),
        ],
      },
    },
    lookups: {
      type: ['object', 'null'],
      description: "Turn a sender's own id into a HelpCrunch customer through the sender's API",
      propertyNames: { pattern: LOOKUP_NAME.source },
      additionalProperties: {
        oneOf: [
          closed(pick(PRESET_KEYS, LOOKUP_FIELDS), ['preset', 'secretId']),
          closed(pick(GENERIC_KEYS, LOOKUP_FIELDS), ['url', 'auth', 'select']),
        ],
      },
    },
    rules: { type: 'array', minItems: 1, items: rule, description: 'Which events change which tags of whom' },
  };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'helpcrunch-untag rules.yml',
    ...closed(pick(TOP_KEYS, top), ['rules']),
  };
}
