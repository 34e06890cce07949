/**
 * Structural validation of rules.yml against lib/rules/shape.ts (ajv), each error turned into a
 * problem that names the entity (`rules[0] "deal-lost"`, `sources.crm`) and the field, in words a
 * person can act on: the schema's own `errorMessage` / `requiredMessage` where it gives one.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isRecord } from '../../lib/json';
import { rulesSchema, schemeNames } from '../../lib/rules/shape';
import { didYouMean, quoted, type Report, unknownKey } from './report';

/** The parts of a schema node the messages read. */
interface SchemaNode {
  errorMessage?: string;
  requiredMessage?: string;
  properties?: Record<string, SchemaNode & { const?: unknown }>;
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  required?: string[];
  enum?: unknown[];
}

let compiled: ValidateFunction | undefined;

/** Compiled once per process: tests and check-rules validate many files. */
function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new Ajv({
      allErrors: true,
      verbose: true,
      discriminator: true,
      allowUnionTypes: true,
      strict: true,
      // Branches that only list `required` keys leave their types to the enclosing schema.
      strictTypes: false,
      strictRequired: false,
    });
    ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
    ajv.addKeyword({ keyword: 'requiredMessage', schemaType: 'string' });
    compiled = ajv.compile(rulesSchema());
  }
  return compiled;
}

/** Where an entity stands in the file, so problems list in file order. */
export type Placement = (path: string[]) => { report: Report; rest: string[] };

/** Every key any scheme takes: a verify key another scheme uses is "not used by scheme …", not unknown. */
const VERIFY_KEYS = [
  'scheme',
  ...new Set([...schemeNames().values()].flatMap(({ required, optional }) => [...required, ...optional])),
];

/** Validates `raw` against rules.yml's shape; adds a problem per mistake. True when the structure holds. */
export function checkStructure(raw: unknown, place: Placement): boolean {
  const validate = validator();
  if (validate(raw)) return true;
  const errors = validate.errors ?? [];
  // A failed oneOf/anyOf speaks for its branches: their own errors would only restate it.
  const explained = errors.filter((error) => error.keyword === 'oneOf' || error.keyword === 'anyOf');
  // A value of the wrong type: what else its schema says of it follows from that.
  const mistyped = new Set(errors.filter((error) => error.keyword === 'type').map((error) => error.instancePath));
  for (const error of errors) {
    if (explained.some((parent) => error.schemaPath.startsWith(`${parent.schemaPath}/`))) continue;
    if (error.keyword !== 'type' && mistyped.has(error.instancePath)) continue;
    report(error, place);
  }
  return false;
}

function report(error: ErrorObject, place: Placement): void {
  const path = error.instancePath.split('/').slice(1).map(unescapePointer);
  const parent = (error.parentSchema ?? {}) as SchemaNode;
  const params = error.params as Record<string, unknown>;
  // propertyNames: the error is about a key of this mapping, so its entity is that key's.
  if (error.keyword === 'propertyNames') return; // its inner error names the key
  if (error.propertyName !== undefined) {
    place([...path, error.propertyName]).report.add('', parent.errorMessage ?? error.message ?? 'invalid name');
    return;
  }
  const { report: entity, rest } = place(path);
  switch (error.keyword) {
    case 'if':
      return; // the failing `then` says what is wrong
    case 'additionalProperties': {
      const key = params.additionalProperty as string;
      entity.add(fieldOf([...rest, key]), unknownKeyMessage(key, parent), { early: true });
      return;
    }
    case 'required':
    case 'dependencies': {
      const key = params.missingProperty as string;
      entity.add(fieldOf([...rest, key]), parent.properties?.[key]?.requiredMessage ?? 'is required');
      return;
    }
    case 'discriminator': {
      const tag = params.tag as string;
      const names = (parent.oneOf ?? []).map((branch) => branch.properties?.[tag]?.const);
      entity.add(fieldOf([...rest, tag]), `must be one of ${names.join(' | ')}`);
      return;
    }
    case 'uniqueItems': {
      // ajv names both places; the later one is the duplicate.
      const index = Math.max(params.i as number, params.j as number);
      entity.add(fieldOf([...rest, String(index)]), `duplicate ${quoted((error.data as unknown[])[index])}`);
      return;
    }
    case 'maxItems':
      entity.add(fieldOf(rest), `at most ${params.limit} entries, got ${(error.data as unknown[]).length}`);
      return;
    default:
      entity.add(fieldOf(rest), message(error, parent, params).replaceAll('{value}', quotedText(error.data)));
  }
}

/** What the value must be: the schema's words where it gives them, else a generic one. */
function message(error: ErrorObject, parent: SchemaNode, params: Record<string, unknown>): string {
  if (error.keyword === 'oneOf' || error.keyword === 'anyOf') return withGiven(parent, error.data);
  if (parent.errorMessage !== undefined) return parent.errorMessage;
  switch (error.keyword) {
    case 'type': {
      const hint = typeof error.data === 'number' || typeof error.data === 'boolean' ? ' (quote it in YAML)' : '';
      return `must be ${[params.type].flat().map(typeName).join(' or ')}${params.type === 'string' ? hint : ''}`;
    }
    case 'enum': {
      const allowed = params.allowedValues as unknown[];
      const near = typeof error.data === 'string' ? didYouMean(error.data, allowed.map(String)) : undefined;
      return `must be one of ${allowed.join(' | ')}${near ? ` (did you mean ${near}?)` : ''}`;
    }
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`;
    default:
      return error.message ?? 'is invalid';
  }
}

/**
 * A failed "exactly one of these keys" (branches that each require one key): the schema's words,
 * and which of the keys were given when there were several.
 */
function withGiven(parent: SchemaNode, data: unknown): string {
  const text = parent.errorMessage ?? 'must match exactly one form';
  const branches = parent.oneOf ?? parent.anyOf ?? [];
  const keys = branches.flatMap((branch) => (branch.required?.length === 1 ? branch.required : []));
  if (keys.length !== branches.length || !isRecord(data)) return text;
  const given = keys.filter((key) => data[key] !== undefined);
  return given.length > 1 ? `${text}, got ${given.join(', ')}` : text;
}

/** A key this mapping does not take: a near miss, or one that only another verify scheme takes. */
function unknownKeyMessage(key: string, parent: SchemaNode): string {
  const scheme = parent.properties?.scheme?.const;
  if (typeof scheme !== 'string') return unknownKey(key, Object.keys(parent.properties ?? {}));
  return VERIFY_KEYS.includes(key) ? `not used by scheme ${scheme}` : unknownKey(key, VERIFY_KEYS);
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  null: 'empty',
};
const typeName = (type: unknown) => TYPE_NAMES[String(type)] ?? String(type);

/** `name`, `verify.header`, `removeTags[1]`: a path below the entity as a person writes it. */
function fieldOf(path: string[]): string {
  return path.reduce((field, segment) => {
    if (/^\d+$/.test(segment)) return `${field}[${segment}]`;
    return field ? `${field}.${segment}` : segment;
  }, '');
}

const unescapePointer = (segment: string) => segment.replaceAll('~1', '/').replaceAll('~0', '~');

/** `quoted` without its outer quotes, for messages that quote the value themselves. */
const quotedText = (value: unknown) => (typeof value === 'string' ? quoted(value).slice(1, -1) : quoted(value));
