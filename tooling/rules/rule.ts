/** One entry of `rules`: which events (source, event type, condition) change which tags of whom. */
import type { CustomerSelector, DirectCustomerKind, RuleConfig } from '../../lib/rules/types';
import { isRecord } from '../../lib/json';
import { checkKeys, readExpression, readNameList, type Report } from './report';

export const RULE_KEYS = [
  'name',
  'source',
  'eventType',
  'detailType',
  'when',
  'customer',
  'removeTags',
  'addTags',
] as const;
export const DIRECT_KEYS: readonly DirectCustomerKind[] = ['helpcrunchId', 'email', 'userId'];
/** `id` is the old name of `helpcrunchId`: still read, with a warning. */
const CUSTOMER_KEYS = [...DIRECT_KEYS, 'id', 'lookup', 'from'] as const;
export const MAX_TAGS = 50;

export function readRule(raw: unknown, report: Report): RuleConfig | undefined {
  if (!isRecord(raw)) {
    report.add('', 'must be a mapping with name, source, customer and removeTags and/or addTags');
    return undefined;
  }
  const before = report.count;
  checkKeys(raw, RULE_KEYS, report);

  if (typeof raw.name !== 'string' || raw.name.trim() === '') report.add('name', 'is required (a non-empty string)');
  else if (raw.name !== raw.name.trim()) report.add('name', 'has leading or trailing whitespace');

  const source = readNameList(raw.source, 'source', report, { single: true });
  const eventType = readEventTypes(raw, report);
  const when = raw.when === undefined ? undefined : readExpression(raw.when, 'when', report);
  const customer = readCustomer(raw.customer, report);
  const tags = readTags(raw, report);

  if (report.count > before) return undefined;
  return {
    name: raw.name as string,
    source: source!,
    ...(eventType !== undefined && { eventType }),
    ...(when !== undefined && { when }),
    customer: customer!,
    removeTags: tags!.removeTags,
    addTags: tags!.addTags,
  };
}

/** `eventType`, or its EventBridge-era name `detailType`: a string or a list. */
function readEventTypes(raw: Record<string, unknown>, report: Report): string[] | undefined {
  if (raw.eventType !== undefined && raw.detailType !== undefined) {
    report.add('detailType', 'is the old name of eventType: give only eventType');
    return undefined;
  }
  const field = raw.eventType !== undefined ? 'eventType' : 'detailType';
  return raw[field] === undefined ? undefined : readNameList(raw[field], field, report, { single: true });
}

/** removeTags and addTags: each optional, at least one non-empty, no tag in both. */
function readTags(
  raw: Record<string, unknown>,
  report: Report,
): { removeTags: string[]; addTags: string[] } | undefined {
  if (raw.removeTags === undefined && raw.addTags === undefined) {
    report.add('removeTags', 'is required (or addTags): a rule must change at least one tag');
    return undefined;
  }
  const read = (field: 'removeTags' | 'addTags') =>
    raw[field] === undefined ? [] : readNameList(raw[field], field, report, { single: false, max: MAX_TAGS });
  const removeTags = read('removeTags');
  const addTags = read('addTags');
  if (!removeTags || !addTags) return undefined;
  const both = removeTags.filter((tag) => addTags.includes(tag));
  if (both.length > 0) {
    report.add(
      'addTags',
      `${both.map((tag) => `"${tag}"`).join(', ')} also in removeTags: a tag cannot be both removed and added`,
    );
    return undefined;
  }
  return { removeTags, addTags };
}

function readCustomer(raw: unknown, report: Report): CustomerSelector | undefined {
  const required = `exactly one of ${DIRECT_KEYS.join(' | ')} | lookup (with from) is required`;
  if (!isRecord(raw)) {
    report.add('customer', raw === undefined ? required : `must be a mapping: ${required}`);
    return undefined;
  }
  checkKeys(raw, CUSTOMER_KEYS, report, 'customer.');
  if (raw.id !== undefined) {
    if (raw.helpcrunchId !== undefined)
      report.add('customer.id', 'is the old name of helpcrunchId: give only helpcrunchId');
    else
      report.warn(
        'customer.id',
        'is now called helpcrunchId (it must be a HelpCrunch customer id, never the sender’s own id)',
      );
  }
  const direct = DIRECT_KEYS.filter(
    (key) => (key === 'helpcrunchId' ? (raw.helpcrunchId ?? raw.id) : raw[key]) !== undefined,
  );
  const lookup = raw.lookup !== undefined || raw.from !== undefined;
  if (direct.length + (lookup ? 1 : 0) !== 1) {
    const given = [...direct, ...(lookup ? ['lookup'] : [])];
    report.add('customer', given.length === 0 ? required : `${required}, got ${given.join(', ')}`);
    return undefined;
  }
  if (lookup) {
    if (typeof raw.lookup !== 'string' || raw.lookup === '')
      report.add('customer.lookup', 'must name an entry of `lookups`');
    const expression = readExpression(raw.from, 'customer.from', report);
    if (typeof raw.lookup !== 'string' || raw.lookup === '' || expression === undefined) return undefined;
    return { by: 'lookup', lookup: raw.lookup, expression };
  }
  const by = direct[0]!;
  const field = by === 'helpcrunchId' && raw.helpcrunchId === undefined ? 'id' : by;
  const expression = readExpression(raw[field], `customer.${field}`, report);
  return expression === undefined ? undefined : { by, expression };
}
