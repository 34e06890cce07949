/**
 * Customer references -> HelpCrunch customers. Each distinct lookup reference is resolved once
 * through the sender's API, and each distinct HelpCrunch reference once (an id as is, an email or
 * userId by search, which also tells the customer's tags).
 */
import { asUntagError, UntagError } from '../errors';
import { type HelpCrunchClient, tagNames } from '../helpcrunch/client';
import type { DirectRef, LookupResolver } from '../lookups/resolver';
import type { RetryBudget } from '../http/retry';
import type { CustomerRef, RequestCounts } from '../types';
import { customerRefKey } from './units';

/** A customer as far as we know it: tag names are known only when a search returned them. */
export interface ResolvedCustomer {
  id: number;
  tagNames?: Set<string>;
}

type Resolution<T> = { ok: true; value: T; requests: number } | { ok: false; error: UntagError; requests: number };

/** Where a reference led: customers, no one (and why), or a failure (and whose, when a lookup's). */
export type Whom =
  | { kind: 'customers'; customers: ResolvedCustomer[]; requests: number }
  | { kind: 'none'; reason: 'lookup_not_found' | 'customer_not_found'; requests: number }
  | { kind: 'failed'; error: UntagError; requests: number; lookup?: string };

const requestsOf = (error: unknown): number => (error instanceof UntagError ? (error.requests ?? 0) : 0);

export class Resolutions {
  private readonly lookups = new Map<string, Resolution<DirectRef[]>>();
  private readonly searches = new Map<string, Resolution<ResolvedCustomer[]>>();
  /** Each customer's tags as a search told them, kept up to date with what this run changed since. */
  private readonly knownTags = new Map<number, Set<string> | undefined>();
  readonly requests: RequestCounts = { helpcrunch: 0, lookups: 0 };

  constructor(
    private readonly helpcrunch: HelpCrunchClient,
    private readonly resolver: LookupResolver,
    private readonly budget: RetryBudget,
  ) {}

  /** Resolves every lookup reference among `refs` (each once). */
  async lookUp(refs: CustomerRef[]): Promise<void> {
    for (const ref of refs) {
      const key = customerRefKey(ref);
      if (ref.by !== 'lookup' || this.lookups.has(key)) continue;
      let resolution: Resolution<DirectRef[]>;
      try {
        const { refs: found, requests } = await this.resolver.resolve(ref.lookup, ref.value, { budget: this.budget });
        resolution = { ok: true, value: found, requests };
      } catch (error) {
        resolution = { ok: false, error: asUntagError(error), requests: requestsOf(error) };
      }
      this.lookups.set(key, resolution);
      this.requests.lookups += resolution.requests;
    }
  }

  /** The HelpCrunch references `ref` stands for (after lookUp); none for a failed lookup. */
  directRefs(ref: CustomerRef): DirectRef[] {
    if (ref.by !== 'lookup') return [ref];
    const resolution = this.lookups.get(customerRefKey(ref));
    return resolution?.ok ? resolution.value : [];
  }

  /** Searches every email and userId `refs` lead to (each once). */
  async search(refs: CustomerRef[]): Promise<void> {
    for (const ref of refs.flatMap((each) => this.directRefs(each))) {
      const key = customerRefKey(ref);
      if (this.searches.has(key)) continue;
      const resolution = await this.searchOne(ref);
      this.searches.set(key, resolution);
      this.requests.helpcrunch += resolution.requests;
    }
  }

  private async searchOne(ref: DirectRef): Promise<Resolution<ResolvedCustomer[]>> {
    if (ref.by === 'helpcrunchId') return { ok: true, value: [{ id: ref.value }], requests: 0 };
    try {
      const { customers, requests } = await this.helpcrunch.searchCustomers(ref.by, ref.value, { budget: this.budget });
      return {
        ok: true,
        value: customers.map((customer) => ({ id: customer.id, tagNames: tagNames(customer) })),
        requests,
      };
    } catch (error) {
      return { ok: false, error: asUntagError(error), requests: requestsOf(error) || 1 };
    }
  }

  /**
   * What a change did to a customer's tags: later units of this run then see them as they are now
   * (unknown after a failed write, so that every tag is sent).
   */
  changed(customerId: number, change: { removed: Iterable<string>; added: Iterable<string> } | 'unknown'): void {
    const known = this.knownTags.get(customerId);
    if (change === 'unknown' || !known) {
      this.knownTags.set(customerId, undefined);
      return;
    }
    for (const tag of change.removed) known.delete(tag);
    for (const tag of change.added) known.add(tag);
  }

  /** Whom `ref` names, after lookUp and search. A reference changes all the customers it names, or none. */
  whom(ref: CustomerRef): Whom {
    let spent = 0;
    let direct: DirectRef[] = [ref as DirectRef];
    if (ref.by === 'lookup') {
      const lookup = this.lookups.get(customerRefKey(ref))!;
      spent += lookup.requests;
      if (!lookup.ok) return { kind: 'failed', error: lookup.error, requests: spent, lookup: ref.lookup };
      if (lookup.value.length === 0) return { kind: 'none', reason: 'lookup_not_found', requests: spent };
      direct = lookup.value;
    }
    const customers = new Map<number, ResolvedCustomer>();
    for (const each of direct) {
      const search = this.searches.get(customerRefKey(each))!;
      spent += search.requests;
      if (!search.ok) return { kind: 'failed', error: search.error, requests: spent };
      for (const customer of search.value) {
        if (!this.knownTags.has(customer.id))
          this.knownTags.set(customer.id, customer.tagNames && new Set(customer.tagNames));
        customers.set(customer.id, { id: customer.id, tagNames: this.knownTags.get(customer.id) });
      }
    }
    if (customers.size === 0) return { kind: 'none', reason: 'customer_not_found', requests: spent };
    return { kind: 'customers', customers: [...customers.values()], requests: spent };
  }
}
