/**
 * Local stand-ins for the vendor APIs the lookup presets call, on one node:http server on
 * 127.0.0.1, routed by each vendor's own paths:
 *   /v1/customers/:id                          Stripe            (Bearer secret key)
 *   /customers/:id                             Paddle Billing    (Bearer API key)
 *   /api/v2/persons/:id                        Pipedrive v2      (x-api-token)
 *   /crm/v3/objects/contacts/…, /crm/v4/…      HubSpot CRM       (Bearer private-app token)
 * A lookup's origin set to `url` (its `baseUrl`, or LOOKUP_ORIGINS as `npm start` sets it) sends
 * its preset here. Each vendor's answers and error bodies are in its module; `requests` records
 * what arrived (headers included) for tests. script() queues scripted answers (scripted-answers.ts)
 * per vendor or for any path: a generic lookup's API, which no vendor module speaks, is answered
 * only by them.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { LookupConfig, LookupPreset } from '../../../lib/rules/types';
import { BoundedLog } from '../bounded-log';
import { baseUrl, closerFor, listen, readBody, sendJson } from '../http-server';
import { AnswerScript, type ScriptedAnswer } from '../scripted-answers';
import { hubSpotRoute } from './hubspot';
import { paddleRoute } from './paddle';
import { pipedriveRoute } from './pipedrive';
import { DEFAULT_VENDOR_RECORDS, type VendorRecords } from './records';
import { stripeRoute } from './stripe';
import { invalidJson, type VendorReply, type VendorRequest } from './vendor';

export { DEFAULT_VENDOR_RECORDS, type VendorRecords } from './records';

export interface VendorKeys {
  stripe: string;
  paddle: string;
  pipedrive: string;
  hubspot: string;
}

export const DEFAULT_VENDOR_KEYS: VendorKeys = {
  stripe: 'sk_test_sandboxStripeKey0000',
  paddle: 'pdl_sdbx_apikey_sandboxpaddlekey',
  pipedrive: 'sandbox-pipedrive-api-token',
  hubspot: 'pat-na1-sandbox-hubspot-token',
};

/** Whose stand-in answers each preset, and so whose key its secret holds. */
const PRESET_VENDOR: Record<LookupPreset, keyof VendorKeys> = {
  'stripe-customer': 'stripe',
  'paddle-customer': 'paddle',
  'pipedrive-person': 'pipedrive',
  'hubspot-contact': 'hubspot',
  'hubspot-deal-contacts': 'hubspot',
};

/**
 * secretId -> demo value for every lookup: a preset's the key its stand-in accepts; a generic
 * lookup's `demo:<secretId>` (also a user:password for basic auth), for an API no stand-in serves.
 */
export function demoLookupSecrets(
  lookups: Record<string, LookupConfig>,
  keys: VendorKeys = DEFAULT_VENDOR_KEYS,
): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const lookup of Object.values(lookups)) {
    secrets[lookup.secretId] = 'preset' in lookup ? keys[PRESET_VENDOR[lookup.preset]] : `demo:${lookup.secretId}`;
  }
  return secrets;
}

export interface VendorApiRequest {
  method: string;
  /** Path and query exactly as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface VendorApisOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  records?: VendorRecords;
  keys?: Partial<VendorKeys>;
}

/** Whose paths a request is on, as scripted answers name them. */
export const VENDOR_ROUTES = [
  'stripe',
  'paddle',
  'pipedrive',
  'hubspot',
] as const satisfies readonly (keyof VendorKeys)[];
export type VendorRoute = (typeof VENDOR_ROUTES)[number];
/** A scripted answer; the vendors' own errors are not named here (use `status` and `body`). */
export type VendorAnswer = ScriptedAnswer<never>;

export interface VendorApis {
  /** The origin, e.g. http://127.0.0.1:PORT: every preset's baseUrl. */
  readonly url: string;
  readonly port: number;
  /** The keys accepted now (see setKey). */
  readonly keys: VendorKeys;
  /** Accept only `key` for `vendor` from now on, as after a rotation. */
  setKey(vendor: keyof VendorKeys, key: string): void;
  /** The most recent requests, oldest first. */
  readonly requests: VendorApiRequest[];
  /** Queues answers for the next requests on a vendor's paths ('*': any path), before the stand-ins answer. */
  script(route: VendorRoute | '*', ...answers: VendorAnswer[]): void;
  /** Requests a `stall` answer holds now. */
  stalled(): number;
  /** Lets every held request go on to the stand-in's own answer. */
  release(): void;
  /** Forgets scripted answers and the request log, and restores the keys it started with. */
  reset(): void;
  close(): Promise<void>;
}

const maxBodyBytes = 1024 * 1024;

/** Whose stand-in serves a path, by each vendor's own prefix. */
function vendorOf(path: string): VendorRoute | undefined {
  if (path.startsWith('/v1/')) return 'stripe';
  if (path.startsWith('/customers/')) return 'paddle';
  if (path.startsWith('/api/v2/')) return 'pipedrive';
  if (path.startsWith('/crm/')) return 'hubspot';
  return undefined;
}

function route(request: VendorRequest, keys: VendorKeys, records: VendorRecords): VendorReply {
  switch (vendorOf(request.url.pathname)) {
    case 'stripe':
      return stripeRoute(request, keys.stripe, records.stripeCustomers);
    case 'paddle':
      return paddleRoute(request, keys.paddle, records.paddleCustomers);
    case 'pipedrive':
      return pipedriveRoute(request, keys.pipedrive, records.pipedrivePersons);
    case 'hubspot':
      return hubSpotRoute(request, keys.hubspot, records.hubspotContacts, records.hubspotDeals);
    case undefined:
      return { status: 404, body: { error: `No vendor stand-in serves ${request.url.pathname}` } };
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = (await readBody(req, maxBodyBytes)).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return invalidJson;
  }
}

export async function startVendorApis(options: VendorApisOptions = {}): Promise<VendorApis> {
  const host = options.host ?? '127.0.0.1';
  const records = options.records ?? DEFAULT_VENDOR_RECORDS;
  const initialKeys: VendorKeys = { ...DEFAULT_VENDOR_KEYS, ...options.keys };
  const keys: VendorKeys = { ...initialKeys };
  const log = new BoundedLog<VendorApiRequest>(1000);
  const script = new AnswerScript<VendorRoute, never>({
    routes: VENDOR_ROUTES,
    errors: [],
    errorReply: () => {
      throw new RangeError('the vendor stand-ins name no errors');
    },
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? '';
    const path = req.url ?? '/';
    const url = new URL(path, 'http://vendor');
    const body = await readJson(req);
    log.push({ method, path, headers: req.headers, body });
    await script.serve(req, res, vendorOf(url.pathname), async () =>
      route({ method, url, headers: req.headers, body }, keys, records),
    );
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => sendJson(res, 413, { error: 'Request body too large' }));
  });
  const port = await listen(server, host, options.port ?? 0);
  const closeServer = closerFor(server);

  return {
    url: baseUrl(host, port),
    port,
    keys,
    setKey: (vendor, key) => {
      keys[vendor] = key;
    },
    get requests() {
      return log.toArray();
    },
    script: (target, ...answers) => script.add(target, answers),
    stalled: () => script.stalled(),
    release: () => script.release(),
    reset: () => {
      script.clear();
      log.clear();
      Object.assign(keys, initialKeys);
    },
    close: () => {
      script.close();
      return closeServer();
    },
  };
}
