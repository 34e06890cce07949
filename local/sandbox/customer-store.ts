/**
 * The sandbox's customers: storage, tag edits, HelpCrunch's search filters, and the customer as
 * HelpCrunch answers it (the Customer model; tests/fixtures/helpcrunch/customer.json).
 */

export interface SandboxTag {
  name: string;
  color: string;
}

/** What the sandbox keeps of a customer: the fields this project reads; the rest are answered empty. */
export interface SandboxCustomer {
  id: number;
  email: string | null;
  userId: string | null;
  name: string | null;
  tags: SandboxTag[];
}

export type StringField = 'customers.email' | 'customers.userId' | 'customers.name';
export type StringOperator = '=' | '!=' | '~';

/**
 * One entry of a search body's `filter`. `customers.tagsData` is HelpCrunch's filter on tags: its
 * value is `[{"name": …}]` and a customer matches when it carries all of them.
 */
export type SearchFilter =
  | { field: StringField; operator: StringOperator; value: string }
  | { field: 'customers.tagsData'; operator: '='; value: string[] };

export type Comparison = 'AND' | 'OR';

const STRING_FIELDS: readonly string[] = ['customers.email', 'customers.userId', 'customers.name'];
const STRING_OPERATORS: readonly string[] = ['=', '!=', '~'];

/** Tag customer: "If you don't specify it, the default #c377e0 color will be applied." */
export const DEFAULT_TAG_COLOR = '#c377e0';

export function cloneCustomer(customer: SandboxCustomer): SandboxCustomer {
  return { ...customer, tags: customer.tags.map((tag) => ({ ...tag })) };
}

/**
 * The customer as HelpCrunch answers it, every documented key present; what the sandbox does not
 * keep is null, false or empty, as for a customer HelpCrunch knows little about.
 */
export function helpCrunchCustomer(customer: SandboxCustomer) {
  const { id, name, email, userId, tags } = customer;
  return {
    id,
    name,
    email,
    userId,
    company: null,
    phone: null,
    firstSeen: null,
    lastSeen: null,
    location: { regionCode: null, countryCode: null, city: null },
    device: null,
    unsubscribed: false,
    blocked: false,
    source: null,
    referer: null,
    lastPage: null,
    locale: null,
    createdFrom: null,
    integrationId: null,
    notes: null,
    tags: tags.map((tag) => ({ ...tag })),
    customData: {},
  };
}

/** The tag names of a `customers.tagsData` value (`[{"name": …}, …]`), or undefined when malformed. */
function tagFilterNames(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const names = (value as unknown[]).map((entry) => (entry as { name?: unknown } | null)?.name);
  return names.every((name): name is string => typeof name === 'string' && name !== '') ? names : undefined;
}

/** The `filter` array of a search body, or undefined when any entry is malformed. */
export function parseSearchFilters(value: unknown): SearchFilter[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const filters: SearchFilter[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { field, operator, value: operand } = entry as Record<string, unknown>;
    if (field === 'customers.tagsData') {
      const names = tagFilterNames(operand);
      if (operator !== '=' || !names) return undefined;
      filters.push({ field, operator, value: names });
      continue;
    }
    if (typeof field !== 'string' || !STRING_FIELDS.includes(field)) return undefined;
    if (typeof operator !== 'string' || !STRING_OPERATORS.includes(operator)) return undefined;
    if (typeof operand !== 'string') return undefined;
    filters.push({ field: field as StringField, operator: operator as StringOperator, value: operand });
  }
  return filters;
}

/** '=' and '!=' compare exactly; '~' is a case-insensitive "contains"; tagsData wants every named tag. */
function matches(customer: SandboxCustomer, filter: SearchFilter): boolean {
  if (filter.field === 'customers.tagsData')
    return filter.value.every((name) => customer.tags.some((tag) => tag.name === name));
  const { field, operator, value } = filter;
  const candidate = customer[field.slice('customers.'.length) as 'email' | 'userId' | 'name'];
  switch (operator) {
    case '=':
      return candidate === value;
    case '!=':
      return candidate !== value;
    case '~':
      return candidate?.toLowerCase().includes(value.toLowerCase()) ?? false;
  }
}

/** Customers by id, kept in ascending id order. Everything handed out is a copy. */
export class CustomerStore {
  private byId = new Map<number, SandboxCustomer>();

  constructor(customers: readonly SandboxCustomer[]) {
    this.replaceAll(customers);
  }

  replaceAll(customers: readonly SandboxCustomer[]): void {
    const byId = new Map<number, SandboxCustomer>();
    for (const customer of [...customers].sort((a, b) => a.id - b.id)) {
      if (byId.has(customer.id)) throw new Error(`Duplicate sandbox customer id ${customer.id}`);
      byId.set(customer.id, cloneCustomer(customer));
    }
    this.byId = byId;
  }

  all(): SandboxCustomer[] {
    return [...this.byId.values()].map(cloneCustomer);
  }

  get(id: number): SandboxCustomer | undefined {
    const customer = this.byId.get(id);
    return customer && cloneCustomer(customer);
  }

  /** Customers matching every filter (AND) or any (OR); an empty list matches all. */
  search(filters: readonly SearchFilter[], comparison: Comparison = 'AND'): SandboxCustomer[] {
    const test = (customer: SandboxCustomer) =>
      comparison === 'AND'
        ? filters.every((filter) => matches(customer, filter))
        : filters.some((filter) => matches(customer, filter));
    return filters.length === 0 ? this.all() : this.all().filter(test);
  }

  /** Removes tags by exact name; names the customer lacks are ignored. Undefined when there is no such customer. */
  removeTags(id: number, names: readonly string[]): SandboxCustomer | undefined {
    const customer = this.byId.get(id);
    if (!customer) return undefined;
    customer.tags = customer.tags.filter((tag) => !names.includes(tag.name));
    return cloneCustomer(customer);
  }

  /** Adds tags the customer lacks (existing names keep their color). Undefined when there is no such customer. */
  addTags(id: number, tags: readonly { name: string; color?: string }[]): SandboxCustomer | undefined {
    const customer = this.byId.get(id);
    if (!customer) return undefined;
    for (const { name, color } of tags) {
      if (!customer.tags.some((tag) => tag.name === name)) {
        customer.tags.push({ name, color: color ?? DEFAULT_TAG_COLOR });
      }
    }
    return cloneCustomer(customer);
  }
}
