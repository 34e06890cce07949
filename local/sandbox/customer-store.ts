/** The sandbox's customers: storage, tag edits, and HelpCrunch-style search filters. */

export interface SandboxTag {
  name: string;
  color: string;
}

/** A customer as HelpCrunch returns it (the fields this project reads). */
export interface SandboxCustomer {
  id: number;
  email: string | null;
  userId: string | null;
  name: string | null;
  tagsData: SandboxTag[];
}

export type SearchField = 'customers.email' | 'customers.userId' | 'customers.name' | 'customers.tagsData';
export type SearchOperator = '=' | '!=' | '~';

export interface SearchFilter {
  field: SearchField;
  operator: SearchOperator;
  value: string;
}

const SEARCH_FIELDS: readonly string[] = ['customers.email', 'customers.userId', 'customers.name', 'customers.tagsData'];
const SEARCH_OPERATORS: readonly string[] = ['=', '!=', '~'];

/** Colors given to tags added without one; picked by name so a tag keeps its color across runs. */
const TAG_COLORS = ['#4caf50', '#2196f3', '#ff9800', '#9c27b0', '#f44336', '#009688'];

export function cloneCustomer(customer: SandboxCustomer): SandboxCustomer {
  return { ...customer, tagsData: customer.tagsData.map((tag) => ({ ...tag })) };
}

function colorFor(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return TAG_COLORS[hash % TAG_COLORS.length]!;
}

/** The `filter` array of a search body, or undefined when any entry is malformed. */
export function parseSearchFilters(value: unknown): SearchFilter[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const filters: SearchFilter[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { field, operator, value: operand } = entry as Record<string, unknown>;
    if (typeof field !== 'string' || !SEARCH_FIELDS.includes(field)) return undefined;
    if (typeof operator !== 'string' || !SEARCH_OPERATORS.includes(operator)) return undefined;
    if (typeof operand !== 'string') return undefined;
    filters.push({ field: field as SearchField, operator: operator as SearchOperator, value: operand });
  }
  return filters;
}

/** '=' and '!=' compare exactly; '~' is a case-insensitive "contains". tagsData matches any tag's name. */
function matches(customer: SandboxCustomer, { field, operator, value }: SearchFilter): boolean {
  const candidates =
    field === 'customers.tagsData'
      ? customer.tagsData.map((tag) => tag.name)
      : [customer[field.slice('customers.'.length) as 'email' | 'userId' | 'name']].filter(
          (candidate): candidate is string => candidate !== null,
        );
  switch (operator) {
    case '=':
      return candidates.includes(value);
    case '!=':
      return !candidates.includes(value);
    case '~':
      return candidates.some((candidate) => candidate.toLowerCase().includes(value.toLowerCase()));
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

  /** Customers matching every filter (an empty list matches all). */
  search(filters: readonly SearchFilter[]): SandboxCustomer[] {
    return this.all().filter((customer) => filters.every((filter) => matches(customer, filter)));
  }

  /** Removes tags by exact name; names the customer lacks are ignored. Undefined when there is no such customer. */
  removeTags(id: number, names: readonly string[]): SandboxCustomer | undefined {
    const customer = this.byId.get(id);
    if (!customer) return undefined;
    customer.tagsData = customer.tagsData.filter((tag) => !names.includes(tag.name));
    return cloneCustomer(customer);
  }

  /** Adds tags the customer lacks (existing names keep their color). Undefined when there is no such customer. */
  addTags(id: number, tags: readonly { name: string; color?: string }[]): SandboxCustomer | undefined {
    const customer = this.byId.get(id);
    if (!customer) return undefined;
    for (const { name, color } of tags) {
      if (!customer.tagsData.some((tag) => tag.name === name)) {
        customer.tagsData.push({ name, color: color ?? colorFor(name) });
      }
    }
    return cloneCustomer(customer);
  }
}
