// biome-ignore-all lint/suspicious/noThenProperty: `then` is JSON Schema's keyword here, not a thenable
/**
 * The shape of rules.yml, as JSON Schema literals: the one definition that rules.schema.json
 * (editors), structural validation (ajv, at build time in tooling/rules) and the config types
 * (lib/rules/types.ts, through json-schema-to-ts) all come from. Hand-written validation keeps only
 * what a schema cannot say: JMESPath syntax, references between sections, conflicts, old key names.
 *
 * Two annotations carry the messages a person reads, naming what to write: `errorMessage` (what a
 * value must be; editors show it too) and `requiredMessage` (what to write when a key is missing).
 * `{value}` in a message stands for the offending value.
 *
 * The Lambda never loads this module: lib/rules/types.ts imports its types only.
 */
import { HEADER_NAME_PATTERN, QUERY_NAME_PATTERN, secretIdOption } from '../webhook-auth/options';
import { registeredSchemes, type RegisteredWebhookScheme } from '../webhook-auth/registry';

/** The vendor APIs a lookup's `preset` may name (lib/lookups/presets/). */
export const LOOKUP_PRESETS = [
  'stripe-customer',
  'paddle-customer',
  'pipedrive-person',
  'hubspot-contact',
  'hubspot-deal-contacts',
] as const;

const MAX_TAGS = 50;
export const DEFAULT_CACHE_SECONDS = 300;

const header = (description: string) =>
  ({ type: 'string', pattern: HEADER_NAME_PATTERN, description, errorMessage: 'must be an HTTP header name' }) as const;

const expression = (description: string) =>
  ({
    type: 'string',
    pattern: '\\S',
    description: `JMESPath: ${description}`,
    errorMessage: 'must be a non-empty JMESPath expression',
  }) as const;

/** A name matched or sent exactly as written: not blank, no surrounding whitespace. */
const exactName = {
  type: 'string',
  allOf: [
    { pattern: '\\S', errorMessage: 'must not be empty' },
    {
      if: { pattern: '\\S' },
      then: {
        pattern: '^\\S(.*\\S)?$',
        errorMessage: '"{value}" has leading or trailing whitespace (values are used exactly as written)',
      },
    },
  ],
} as const;

/**
 * A string or a non-empty list of distinct ones. (`pattern` constrains only strings, `minItems` and
 * `items` only lists, so one schema says both.)
 */
const oneOrMany = (description: string) =>
  ({
    type: ['string', 'array'],
    description,
    errorMessage: 'must be a string or a list of strings',
    requiredMessage: 'is required',
    items: exactName,
    uniqueItems: true,
    allOf: [
      { minItems: 1, pattern: '\\S', errorMessage: 'must not be empty' },
      {
        if: { type: 'string', pattern: '\\S' },
        then: {
          pattern: '^\\S(.*\\S)?$',
          errorMessage: '"{value}" has leading or trailing whitespace (values are used exactly as written)',
        },
      },
    ],
  }) as const;

/**
 * HelpCrunch documents no limit on a tag's length (its Tag customer and Customer model pages), so
 * this is ours: 100 characters, far beyond a tag a person reads as a chip in HelpCrunch, and within
 * the 255 a name column commonly holds even if each character outside the Basic Multilingual Plane
 * counted twice. A longer one is almost surely a mistake (a sentence, a pasted value): refused at
 * build time rather than sent.
 */
export const MAX_TAG_LENGTH = 100;

/**
 * Characters a tag name may not hold: controls (C0, DEL, C1) and line or paragraph separators
 * would break or forge lines where tags are logged; bidirectional embeddings, overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069) reorder the text around them ("Trojan Source"); the left-to-right,
 * right-to-left and Arabic letter marks (U+200E, U+200F, U+061C) are invisible, so a tag holding
 * one looks like another tag without it while HelpCrunch keeps them apart. (Zero-width joiners stay
 * allowed: emoji sequences use them.)
 */
const UNSAFE_IN_TAGS =
  '\\u0000-\\u001F\\u007F-\\u009F\\u061C\\u200E\\u200F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069';

/** A tag name: exact, printable, without bidirectional or invisible marks, at most MAX_TAG_LENGTH characters. */
const tagName = {
  ...exactName,
  allOf: [
    ...exactName.allOf,
    {
      pattern: `^[^${UNSAFE_IN_TAGS}]*$`,
      errorMessage:
        '"{value}" contains a control character, a line separator or a bidirectional or invisible mark (shown escaped): tags must be plain printable text',
    },
    {
      maxLength: MAX_TAG_LENGTH,
      errorMessage: `"{value}" is longer than ${MAX_TAG_LENGTH} characters`,
    },
  ],
} as const;

const tagList = (description: string) =>
  ({
    type: 'array',
    items: tagName,
    maxItems: MAX_TAGS,
    uniqueItems: true,
    description,
    errorMessage: 'must be a list of strings',
    allOf: [{ minItems: 1, errorMessage: 'must not be empty' }],
  }) as const;

const selector = (what: string) =>
  ({
    type: 'object',
    description: `Where this source's ${what} is: a request header, or a field of the payload (default: the scheme's, see docs/senders.md)`,
    properties: { header: header(`HTTP header carrying the ${what}`), field: expression(`the ${what} in the payload`) },
    additionalProperties: false,
    errorMessage: 'must be {header: <HTTP header>} or {field: <JMESPath into the payload>}',
    oneOf: [{ required: ['header'] }, { required: ['field'] }],
  }) as const;

/** A name rules.yml may give a scheme: its own, or an alias fixing some of its options. */
export interface SchemeName {
  scheme: RegisteredWebhookScheme;
  fixed: Readonly<Record<string, string>>;
  required: string[];
  optional: string[];
}

/** Every scheme name rules.yml takes, in the registry's order, each alias after its scheme. */
export function schemeNames(): Map<string, SchemeName> {
  const names = new Map<string, SchemeName>();
  for (const scheme of registeredSchemes()) {
    for (const [name, fixed] of [[scheme.name, {}] as const, ...Object.entries(scheme.aliases ?? {})]) {
      const keys = Object.keys(scheme.options.properties).filter((key) => !Object.hasOwn(fixed, key));
      const required = (scheme.options.required ?? []).filter((key) => keys.includes(key));
      names.set(name, { scheme, fixed, required, optional: keys.filter((key) => !required.includes(key)) });
    }
  }
  return names;
}

/** `verify`: one closed alternative per scheme name, chosen by `scheme`, each from the scheme's own option schemas. */
function verifySchema() {
  const branches = [...schemeNames()].map(([name, { scheme, required, optional }]) => ({
    type: 'object',
    properties: {
      scheme: { const: name },
      ...Object.fromEntries(
        [...required, ...optional].map((key) => [
          key,
          { ...scheme.options.properties[key], requiredMessage: `is required for scheme ${name}` },
        ]),
      ),
    },
    required: ['scheme', ...required],
    additionalProperties: false,
    ...(scheme.options.oneOf && {
      allOf: [{ errorMessage: scheme.options.errorMessage, oneOf: scheme.options.oneOf }],
    }),
  }));
  return {
    type: 'object',
    description: 'How requests from this source are authenticated',
    errorMessage: 'must be a mapping with a `scheme`',
    requiredMessage: 'is required (write `scheme: none` to accept unsigned webhooks)',
    discriminator: { propertyName: 'scheme' },
    oneOf: branches,
  };
}

export const eventSourceSchema = {
  type: 'object',
  properties: {
    bus: {
      type: 'string',
      pattern:
        '^(default|[A-Za-z0-9._/-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\\d{12}:event-bus\\/[A-Za-z0-9._/-]{1,256})$',
      default: 'default',
      description: 'event bus name or ARN (default: default)',
      errorMessage: 'must be an event bus name or ARN',
    },
  },
  additionalProperties: false,
} as const;

const DIRECT_KEYS = ['helpcrunchId', 'email', 'userId'] as const;
const CUSTOMER_SHAPE = `exactly one of ${DIRECT_KEYS.join(' | ')} | lookup (with from) is required`;

const customerSchema = {
  type: 'object',
  description: 'whom the tag changes apply to',
  properties: {
    helpcrunchId: expression("the HelpCrunch customer id (never the sender's own id)"),
    id: { ...expression('old name of helpcrunchId'), deprecated: true },
    email: expression("the customer's email"),
    userId: expression("the customer's userId in HelpCrunch"),
    lookup: {
      type: 'string',
      minLength: 1,
      description: 'a name under lookups',
      errorMessage: 'must name an entry of `lookups`',
      requiredMessage: 'is required with from: the name of an entry of `lookups`',
    },
    from: {
      ...expression("the sender's own id, handed to the lookup"),
      requiredMessage: "is required with lookup: a JMESPath naming the sender's own id",
    },
  },
  additionalProperties: false,
  dependencies: { lookup: ['from'], from: ['lookup'] },
  errorMessage: `must be a mapping: ${CUSTOMER_SHAPE}`,
  requiredMessage: CUSTOMER_SHAPE,
  allOf: [
    {
      errorMessage: CUSTOMER_SHAPE,
      oneOf: [
        { required: ['helpcrunchId'] },
        // `id` is the old name of helpcrunchId: with both, helpcrunchId counts (validation says to drop id).
        { required: ['id'], not: { required: ['helpcrunchId'] } },
        { required: ['email'] },
        { required: ['userId'] },
        { required: ['lookup'] },
      ],
    },
  ],
} as const;

const ruleSchema = {
  type: 'object',
  errorMessage: 'must be a mapping with name, source, customer and removeTags and/or addTags',
  properties: {
    name: {
      type: 'string',
      description: 'unique; appears in logs, metrics and replies',
      errorMessage: 'is required (a non-empty string)',
      requiredMessage: 'is required (a non-empty string)',
      allOf: [
        { pattern: '\\S', errorMessage: 'is required (a non-empty string)' },
        {
          if: { pattern: '\\S' },
          then: { pattern: '^\\S(.*\\S)?$', errorMessage: 'has leading or trailing whitespace' },
        },
      ],
    },
    source: oneOrMany('webhook sources (sources) and/or EventBridge sources (eventSources)'),
    eventType: oneOrMany("accepted event types: the webhook source's event type, or the EventBridge detail-type"),
    detailType: { ...oneOrMany('old name of eventType'), deprecated: true },
    when: expression('the rule applies when this is truthy'),
    customer: customerSchema,
    removeTags: tagList('tag names to remove, case-sensitive'),
    addTags: tagList('tag names to add (created when missing), case-sensitive'),
  },
  required: ['name', 'source', 'customer'],
  additionalProperties: false,
  // A rule changes at least one tag.
  if: { not: { required: ['addTags'] } },
  then: {
    required: ['removeTags'],
    properties: { removeTags: { requiredMessage: 'is required (or addTags): a rule must change at least one tag' } },
  },
} as const;

const SELECT_SHAPE = "exactly one of email | userId | helpcrunchId: a JMESPath into the API's JSON answer";
const AUTH_SHAPE =
  'must be {bearer: true}, {basic: true} (secret "user:password"), {header: <name>} or {query: <parameter>}, with secretId beside it';
const secretId = { ...secretIdOption, requiredMessage: 'is required: a Secrets Manager secret name or ARN' } as const;
const cacheSeconds = {
  type: 'integer',
  minimum: 0,
  maximum: 86_400,
  default: DEFAULT_CACHE_SECONDS,
  description: `seconds an answer is reused (default ${DEFAULT_CACHE_SECONDS}; 0: never)`,
  errorMessage: 'must be a whole number from 0 to 86400',
} as const;

export const presetLookupSchema = {
  type: 'object',
  properties: {
    preset: { enum: LOOKUP_PRESETS, description: 'the vendor API to ask: it knows the endpoint and what to select' },
    baseUrl: {
      type: 'string',
      description: "the API's origin when not the vendor's default (https, or http to a loopback host)",
      errorMessage: 'must be an absolute https URL',
    },
    secretId,
    cacheSeconds,
  },
  required: ['preset', 'secretId'],
  additionalProperties: false,
} as const;

const genericLookupSchema = {
  type: 'object',
  properties: {
    url: {
      type: 'string',
      pattern: '\\{id\\}',
      description: 'https URL with one {id}: a whole path segment or query value',
      errorMessage: 'must be an https URL with one {id} placeholder',
    },
    auth: {
      type: 'object',
      description: 'how the secret is sent',
      properties: {
        bearer: { const: true },
        basic: { const: true },
        header: header('header name'),
        query: {
          type: 'string',
          pattern: QUERY_NAME_PATTERN,
          description: 'query parameter name',
          errorMessage: 'must be a query parameter name',
        },
        secretId,
      },
      additionalProperties: false,
      errorMessage: AUTH_SHAPE,
      requiredMessage: AUTH_SHAPE,
      oneOf: [{ required: ['bearer'] }, { required: ['basic'] }, { required: ['header'] }, { required: ['query'] }],
    },
    secretId,
    select: {
      type: 'object',
      description: "what in the API's JSON answer names the HelpCrunch customer",
      properties: Object.fromEntries(
        (['email', 'userId', 'helpcrunchId'] as const).map((key) => [key, expression(`the ${key} in the answer`)]),
      ) as Record<'email' | 'userId' | 'helpcrunchId', ReturnType<typeof expression>>,
      additionalProperties: false,
      errorMessage: `must be a mapping: ${SELECT_SHAPE}`,
      requiredMessage: `is required: ${SELECT_SHAPE}`,
      allOf: [
        {
          errorMessage: SELECT_SHAPE,
          oneOf: [{ required: ['email'] }, { required: ['userId'] }, { required: ['helpcrunchId'] }],
        },
      ],
    },
    cacheSeconds,
  },
  required: ['url', 'auth', 'select'],
  additionalProperties: false,
} as const;

/** The whole of rules.yml; `verify` comes from the scheme registry. */
export function rulesSchema() {
  const section = (
    description: string,
    shape: string,
    entry: object,
    names?: { pattern: string; message: string },
  ) => ({
    type: ['object', 'null'],
    description,
    errorMessage: `must be a mapping of ${shape}`,
    ...(names && { propertyNames: { pattern: names.pattern, errorMessage: names.message } }),
    additionalProperties: entry,
  });
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'helpcrunch-untag rules.yml',
    type: 'object',
    errorMessage: 'must be a mapping with `rules` (and `sources`, `eventSources`, `lookups`)',
    properties: {
      sources: section(
        'Webhook senders, each at POST /webhooks/<name>',
        'source name to { verify }',
        {
          type: 'object',
          errorMessage: 'must be a mapping with `verify`',
          properties: {
            verify: verifySchema(),
            eventType: selector('event type'),
            eventId: selector('event id (the same on every retry of the event)'),
            occurredAt: selector('event time (ISO 8601, or unix seconds or milliseconds)'),
          },
          required: ['verify'],
          additionalProperties: false,
        },
        {
          pattern: '^[A-Za-z0-9][A-Za-z0-9._~-]*$',
          message: 'name must be letters, digits, ".", "_", "~" or "-" (it is the last segment of /webhooks/<name>)',
        },
      ),
      eventSources: section(
        'EventBridge sources the functions listen to, each on a bus',
        'EventBridge source to { bus } (or {})',
        {
          ...eventSourceSchema,
          type: ['object', 'null'],
          errorMessage: 'must be a mapping (`{}` or `{bus: <name or ARN>}`)',
        },
        {
          pattern: '^[\\x21-\\x7e]{1,256}$',
          message: 'must be an EventBridge source: 1 to 256 printable characters, no spaces',
        },
      ),
      lookups: section(
        "Turn a sender's own id into a HelpCrunch customer through the sender's API",
        'lookup name to { preset | url, … }',
        {
          type: 'object',
          errorMessage: 'must be a mapping with `preset` or `url`',
          allOf: [
            {
              errorMessage: 'needs exactly one of `preset` (a vendor API) or `url` (any JSON API)',
              oneOf: [{ required: ['preset'] }, { required: ['url'] }],
            },
          ],
          if: { required: ['preset'] },
          then: presetLookupSchema,
          else: { if: { required: ['url'] }, then: genericLookupSchema },
        },
        { pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', message: 'name must be letters, digits, "_" or "-"' },
      ),
      rules: {
        type: 'array',
        minItems: 1,
        items: ruleSchema,
        description: 'Which events change which tags of whom',
        errorMessage: 'must be a list with at least one rule',
        requiredMessage: 'must be a list with at least one rule',
      },
    },
    required: ['rules'],
    additionalProperties: false,
  };
}
