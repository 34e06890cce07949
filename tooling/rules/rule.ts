/**
 * One entry of `rules`: which events (source, event type, condition) change which tags of whom.
 * Its shape is lib/rules/shape.ts's; here is what the schema cannot say, and its validated form.
 */
import { isRecord } from '../../lib/json';
import type { CustomerSelector, DirectCustomerKind, RuleConfig } from '../../lib/rules/types';
import { checkExpression, quoted, type Report } from './report';

const DIRECT_KEYS: readonly DirectCustomerKind[] = ['helpcrunchId', 'email', 'userId'];
/** Keys of `customer` holding a JMESPath (`id` is the old name of helpcrunchId). */
const EXPRESSION_KEYS = [...DIRECT_KEYS, 'id', 'from'] as const;

/** JMESPath syntax, old key names, and tags both removed and added. */
export function checkRule(raw: unknown, report: Report): void {
  if (!isRecord(raw)) return;
  if (raw.eventType !== undefined && raw.detailType !== undefined)
    report.add('detailType', 'is the old name of eventType: give only eventType');
  if (typeof raw.when === 'string') checkExpression(raw.when, 'when', report);
  if (isRecord(raw.customer)) checkCustomer(raw.customer, report);
  const [removeTags, addTags] = [raw.removeTags, raw.addTags].map((tags) => (Array.isArray(tags) ? tags : []));
  const both = removeTags!.filter((tag) => typeof tag === 'string' && addTags!.includes(tag));
  if (both.length > 0)
    report.add('addTags', `${both.map(quoted).join(', ')} also in removeTags: a tag cannot be both removed and added`);
}

function checkCustomer(customer: Record<string, unknown>, report: Report): void {
  for (const key of EXPRESSION_KEYS) {
    if (typeof customer[key] === 'string') checkExpression(customer[key], `customer.${key}`, report);
  }
  if (customer.id === undefined) return;
  if (customer.helpcrunchId !== undefined)
    report.add('customer.id', 'is the old name of helpcrunchId: give only helpcrunchId');
  else
    report.warn(
      'customer.id',
      'is now called helpcrunchId (it must be a HelpCrunch customer id, never the sender’s own id)',
    );
}

/** A valid rule in its validated form: lists for one-or-many fields, the customer as {by, expression}. */
export function toRule(raw: Record<string, unknown>): RuleConfig {
  const list = (value: unknown) => [value as string | string[]].flat();
  const eventType = raw.eventType ?? raw.detailType;
  return {
    name: raw.name as string,
    source: list(raw.source),
    ...(eventType !== undefined && { eventType: list(eventType) }),
    ...(raw.when !== undefined && { when: raw.when as string }),
    customer: toCustomer(raw.customer as Record<string, string>),
    removeTags: [...((raw.removeTags as string[] | undefined) ?? [])],
    addTags: [...((raw.addTags as string[] | undefined) ?? [])],
  };
}

function toCustomer(customer: Record<string, string>): CustomerSelector {
  if (customer.lookup !== undefined) return { by: 'lookup', lookup: customer.lookup, expression: customer.from! };
  const by = DIRECT_KEYS.find((key) => customer[key] !== undefined) ?? 'helpcrunchId';
  return { by, expression: (customer[by] ?? customer.id)! };
}
