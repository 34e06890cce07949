/**
 * The ledger, loaded when first needed: its modules (the DynamoDB client, Powertools idempotency)
 * are a chunk of their own that a function only loads when it changes tags for real. The webhook
 * and EventBridge functions in queue dispatch, and dry runs, never load it; the others start
 * loading it during init (`load()`), once the secret reads are on their way, so their first request
 * does not wait for it. Every method of the Ledger awaits the load, then calls the loaded ledger's own.
 */
import type { Ledger, LedgerOptions } from './index';

export interface LazyLedger extends Ledger {
  /** Starts loading (if not already) and resolves with the loaded ledger; a failed load is tried again next time. */
  load(): Promise<Ledger>;
}

export function lazyLedger(options: LedgerOptions): LazyLedger {
  let loading: Promise<Ledger> | undefined;
  const load = (): Promise<Ledger> => {
    loading ??= import('./index').then(
      ({ createLedger }) => createLedger(options),
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };
  // ledger.<part>.<method>(…) -> (await load()).<part>.<method>(…), for every part and method alike.
  const parts = new Map<PropertyKey, unknown>();
  const part = (name: keyof Ledger) =>
    new Proxy(
      {},
      {
        get:
          (_, method) =>
          async (...args: unknown[]) => {
            const loaded = (await load())[name] as unknown as Record<PropertyKey, (...args: unknown[]) => unknown>;
            return loaded[method]!(...args);
          },
      },
    );
  return new Proxy({ load } as LazyLedger, {
    get(target, name) {
      if (name === 'load' || typeof name === 'symbol') return Reflect.get(target, name);
      if (!parts.has(name)) parts.set(name, part(name as keyof Ledger));
      return parts.get(name);
    },
  });
}
