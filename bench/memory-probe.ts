/**
 * Runs in its own Node process, like a Lambda container: loads the handler bundle, sends it warm
 * webhook events one at a time, and samples memory after a full GC (run with --expose-gc).
 *
 *   node --expose-gc memory-probe.mjs <handler.mjs> <events> <sampleEvery> <signingSecret> <out.json>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { lambdaContext, signedWebhookEvent } from './events';

export interface MemorySample {
  events: number;
  rssMiB: number;
  /** V8's heap as reserved (young and old generations) and as used by live objects. */
  heapTotalMiB: number;
  heapUsedMiB: number;
  /** Memory outside the JS heap held by JS objects (buffers, sockets). */
  externalMiB: number;
  /**
   * Linux only: RSS split into anonymous memory (heaps, malloc) and file-backed pages, mostly
   * the parts of the node binary that have run so far.
   */
  rssAnonMiB?: number;
  rssFileMiB?: number;
}

export interface MemoryProbeReport {
  node: string;
  samples: MemorySample[];
  /** The process's peak resident set, start-up and init included. */
  peakRssMiB: number;
  /** Node built-ins first loaded while handling events rather than at import: cost moved, not saved. */
  builtinsLoadedByEvents: string[];
}

/** A field of /proc/self/status in MiB, where there is one (Linux). */
function statusMiB(field: string): number | undefined {
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
  const kiB = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return Number.isFinite(kiB) ? kiB / 1024 : undefined;
}

/** RssAnon and RssFile, where there are. */
function rssSplit(): { rssAnonMiB?: number; rssFileMiB?: number } {
  const anon = statusMiB('RssAnon');
  const file = statusMiB('RssFile');
  return anon !== undefined && file !== undefined ? { rssAnonMiB: anon, rssFileMiB: file } : {};
}

/**
 * This process's own peak RSS. Not getrusage's maxRSS where there is VmHWM: Linux carries the
 * spawning process's RSS (the forked copy's) over the exec into maxRSS, so a bench process bigger
 * than the probe would set every probe's peak.
 */
const peakRssMiB = () => statusMiB('VmHWM') ?? (process.resourceUsage().maxRSS * 1024) / MiB;

/** Node's own record of the built-ins it has loaded (undocumented, hence optional). */
function loadedBuiltins(): string[] {
  const { moduleLoadList = [] } = process as unknown as { moduleLoadList?: string[] };
  return moduleLoadList
    .filter((name) => name.startsWith('NativeModule '))
    .map((name) => name.slice('NativeModule '.length));
}

const CUSTOMER_IDS = [1001, 1002, 1003, 1004, 1005, 1006];
const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const [entry, eventsArg, sampleEveryArg, signingSecret, outFile] = process.argv.slice(2);
  if (!entry || !eventsArg || !sampleEveryArg || !signingSecret || !outFile)
    throw new Error('usage: memory-probe <handler> <events> <sampleEvery> <secret> <out>');
  const events = Number(eventsArg);
  const sampleEvery = Number(sampleEveryArg);
  const gc = (globalThis as { gc?: () => void }).gc;
  const { handler } = (await import(pathToFileURL(entry).href)) as {
    handler: (event: unknown, context: Context) => Promise<{ statusCode: number; body: string }>;
  };
  const loadedAtImport = new Set(loadedBuiltins());
  const samples: MemorySample[] = [];
  for (let i = 1; i <= events; i++) {
    const customerId = CUSTOMER_IDS[i % CUSTOMER_IDS.length];
    // The bench rules read status/helpcrunchId, the reference handler customerId/tags.
    const payload = { status: 'closed', helpcrunchId: customerId, customerId, tags: ['VIP', 'Lead'] };
    const response = await handler(signedWebhookEvent(payload, signingSecret), lambdaContext('webhook', 28_000));
    if (response.statusCode !== 200) throw new Error(`event ${i} answered ${response.statusCode}: ${response.body}`);
    if (i % sampleEvery === 0 || i === events) {
      gc?.();
      const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
      samples.push({
        events: i,
        rssMiB: rss / MiB,
        heapTotalMiB: heapTotal / MiB,
        heapUsedMiB: heapUsed / MiB,
        externalMiB: external / MiB,
        ...rssSplit(),
      });
    }
  }
  const report: MemoryProbeReport = {
    node: process.version,
    samples,
    peakRssMiB: peakRssMiB(),
    builtinsLoadedByEvents: loadedBuiltins().filter((name) => !loadedAtImport.has(name)),
  };
  writeFileSync(outFile, JSON.stringify(report));
}

// Keep-alive sockets would hold the process open, as they hold a Lambda container between events.
main()
  .then(() => process.exit(0))
  .catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
