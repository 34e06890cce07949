/**
 * The benchmark still runs end to end: `bench/run.ts --smoke` does one tiny iteration of every
 * part (esbuild builds, local node, loopback services, and the cold request's TLS fronts) and
 * writes a results file with every figure. Timings are not asserted; call counts and which
 * connection a request went over are, since they are exact whatever the machine.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { BenchResults, Measured } from '../bench/report';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
const outFile = join(dir, 'results.json');

let stdout: string;
/** A smoke run runs every part. */
let results: BenchResults & Measured;

beforeAll(async () => {
  ({ stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', outFile], {
    cwd: root,
    timeout: 60_000,
  }));
  results = JSON.parse(readFileSync(outFile, 'utf8')) as BenchResults & Measured;
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spreadShape = {
  median: expect.any(Number),
  min: expect.any(Number),
  max: expect.any(Number),
  n: expect.any(Number),
};

describe('npm run bench:smoke', () => {
  it('measures cold start for every function serverless.yml declares, against the reference', () => {
    const declared = Object.keys(
      (parse(readFileSync(join(root, 'serverless.yml'), 'utf8')) as { functions: object }).functions,
    );
    const { coldStart } = results;
    expect(results.smoke).toBe(true);
    expect(coldStart.handlers.map((handler) => handler.name).sort()).toEqual(declared.sort());
    expect(coldStart.reference.jsBytes).toBeGreaterThan(0);
    expect(coldStart.reference.topDependencies.map((dependency) => dependency.name)).toContain('axios');
    for (const handler of coldStart.handlers) {
      expect(handler.initMs).toEqual({ ...spreadShape, n: 1 });
      expect(handler.initRatio).toEqual(spreadShape);
      expect(handler.initBytes).toBeGreaterThan(0);
      expect(handler.initBytes).toBeLessThanOrEqual(handler.jsBytes);
      expect(handler.mapBytes).toBeGreaterThan(0);
      expect(handler.sizeRatio).toBeCloseTo(handler.jsBytes / coldStart.reference.jsBytes, 6);
      expect(handler.topDependencies.length).toBeGreaterThan(0);
    }
  });

  it('times a cold request of every trigger function and the reference, over TLS with round trips and over loopback', () => {
    const { coldRequest } = results;
    expect(coldRequest.runs).toBe(1);
    expect(coldRequest.roundTripsMs).toEqual({ secretsManager: 20, helpcrunch: 60, sqs: 15, dynamodb: 8 });
    const subjects = ['reference', 'webhook, inline', 'eventbridge, inline', 'webhook, queue'];
    for (const network of ['tls', 'loopback'] as const) {
      const figures = coldRequest.figures.filter((figure) => figure.network === network);
      expect(figures.map((figure) => figure.subject)).toEqual(subjects);
      for (const figure of figures) {
        expect(figure.totalMs).toEqual({ ...spreadShape, n: 1 });
        expect(figure.ratio).toEqual(figure.subject === 'reference' ? undefined : spreadShape);
        // Every function read its secrets and made its first downstream request.
        expect(figure.phases.secretReads).toHaveLength(2);
        expect(figure.phases.downstreamRequest).toHaveLength(2);
      }
    }
    // Over TLS, the functions' secret reads and first downstream request went over connections opened at init; the reference opens its own.
    const tls = Object.fromEntries(
      coldRequest.figures.filter((figure) => figure.network === 'tls').map((figure) => [figure.subject, figure]),
    );
    expect(tls.reference!.connectedAtInit).toBe(0);
    expect(tls.reference!.secretsConnectedAtInit).toBe(0);
    for (const subject of subjects.slice(1)) {
      expect(tls[subject]!.connectedAtInit).toBe(1);
      expect(tls[subject]!.secretsConnectedAtInit).toBe(1);
    }
    // Checked over TLS only: loopback is CPU only, reported but not a target.
    const targets = results.targets.filter((target) => target.figure.startsWith('cold request'));
    expect(targets.map((target) => [target.figure, target.target])).toEqual([
      ['cold request, webhook, inline, TLS + round trips', '≤ 0.75 × reference (with the ledger)'],
      ['cold request, eventbridge, inline, TLS + round trips', '≤ 0.75 × reference (with the ledger)'],
      ['cold request, webhook, queue, TLS + round trips', '≤ 0.7 × reference'],
    ]);
  });

  it('has the inline functions talk to the ledger (DynamoDB) in their cold request, over the connection opened at init on TLS', () => {
    const { figures } = results.coldRequest;
    for (const figure of figures) {
      const inline = figure.subject.endsWith(', inline');
      // Start the unit, take the customer's lease, give it back with the decisions, finish the unit.
      expect(figure.ledgerCalls).toBe(inline ? 4 : 0);
      if (inline) expect(figure.phases.ledgerRequests).toHaveLength(2);
      else expect(figure.phases.ledgerRequests).toBeUndefined();
      if (inline && figure.network === 'tls') expect(figure.ledgerConnectedAtInit).toBe(1);
    }
  });

  it('drains a burst inline and through the queue without losing events, the queue worker with the ledger over TLS', () => {
    const { inline, queue } = results.throughput;
    expect(inline.runs).toHaveLength(1);
    expect(inline.lost).toBe(0);
    expect(inline.handedBack).toEqual({ median: 0, min: 0, max: 0, n: 1 });
    expect(inline.rateRatio).toEqual(spreadShape);
    expect(queue.lost).toBe(0);
    expect(queue.ledger.roundTripMs).toBe(8);
    // One unit started per job; the lease taken and given back, the unit finished (an attempt recorded per failed try).
    expect(queue.ledger.requestsPerJob.PutItem).toBe(1);
    expect(queue.ledger.requestsPerJob.UpdateItem).toBeGreaterThanOrEqual(3);
  });

  it('enqueues a backfill and times live events without one, beside one, and behind one in the same queue', () => {
    const { enqueue, latency } = results.backfill;
    expect(enqueue).toMatchObject({ rows: 100, messages: 100 });
    for (const figures of [latency.alone, latency.duringBackfill, latency.sharedQueue]) expect(figures.n).toBe(2);
    expect(latency.timeScale).toBeGreaterThan(1);
  });

  it('counts exactly one HelpCrunch call per event by id, two by email, one Secrets Manager call per secret', () => {
    const { calls, memory } = results;
    expect(calls.helpcrunchCallsPerEvent).toEqual({ byId: 1, byEmail: 2 });
    expect(calls.retries).toBe(0);
    expect(calls.ledgerRequestsPerEvent).toEqual({
      byId: { PutItem: 1, UpdateItem: 3 },
      byEmail: { PutItem: 1, UpdateItem: 3 },
    });
    expect(calls.secretsManager.callsBySecret).toEqual({
      'helpcrunch-untag/api-key': 1,
      'helpcrunch-untag/crm-webhook': 1,
    });
    expect(memory.samples.length).toBeGreaterThan(0);
    expect(memory.peakRssMiB).toEqual(spreadShape);
    expect(memory.peakRssMiB.min).toBeGreaterThan(0);
    expect(memory.ratio).toEqual(spreadShape);
    // The reference as deployed naively: Lambda's bootstrap sizes its heap, no NODE_OPTIONS.
    expect(memory.reference.nodeArgs.some((arg) => arg.startsWith('--max-semi-space-size='))).toBe(true);
    expect(memory.referenceUnderFunctionFlags.peakRssMiB).toEqual(spreadShape);
    expect(memory.ratioUnderFunctionFlags).toEqual(spreadShape);
  });

  it('checks every target and prints the table', () => {
    const figures = results.targets.map((target) => target.figure);
    expect(figures).toEqual(
      expect.arrayContaining([
        'module init, webhook',
        'bundle size, webhook',
        'cold request, webhook, inline, TLS + round trips',
        'queue mode drain, with the ledger',
        'Secrets Manager calls',
        'HelpCrunch calls per event by id',
        'peak RSS over 20 events',
      ]),
    );
    expect(figures.some((figure) => figure.startsWith('warm'))).toBe(false);
    for (const target of results.targets) expect([true, false, null]).toContain(target.met);
    expect(results.parts).toEqual(['cold-start', 'cold-request', 'throughput', 'calls', 'memory', 'backfill']);
    expect(stdout).toContain('Targets');
    expect(stdout).toContain('SMOKE RUN');
  });

  it('prices the ledger’s DynamoDB requests as counted: a write of an item under 1 KB $0.625 per million, a read $0.125', () => {
    const { cost } = results;
    expect(cost.inline.dynamoDb).toEqual({ writeUnitsPerEvent: 4, readUnitsPerEvent: 0, usd: 2.5 });
    // The worker's requests as counted: an abandoned attempt deletes its unit record (DeleteItem), a
    // failed one records an attempt; it reads whether a backfill runs (GetItem).
    const { PutItem = 0, UpdateItem = 0, DeleteItem = 0, GetItem = 0 } = results.throughput.queue.ledger.requestsPerJob;
    expect(cost.queue.dynamoDb.writeUnitsPerEvent).toBeCloseTo(PutItem + UpdateItem + DeleteItem, 3);
    expect(cost.queue.dynamoDb.readUnitsPerEvent).toBeCloseTo(GetItem, 3);
    expect(cost.queue.dynamoDb.usd).toBeCloseTo((PutItem + UpdateItem + DeleteItem) * 0.625 + GetItem * 0.125, 2);
    expect(stdout).toMatch(/inline .*\$2\.50 \(4 \+ 0\)/);
    // 1M events × (7 / 30 + 1) items of at most 1 KiB.
    expect(cost.ledgerStorage.maxGb).toBeCloseTo(1.18, 2);
  });

  it('prices a backlog’s paced request from serverless.yml’s defaults: one token per 60 / (110 / 2) s of a 256 MB worker', () => {
    expect(results.cost.pacedRequest).toEqual({
      ratePerMinute: 110,
      workerConcurrency: 2,
      billedSeconds: 1.091,
      // 1.0909 s × 0.25 GB × $0.0000133334 per GB-s, a million times.
      usdPerMillion: 3.64,
    });
  });
});

describe('npm run bench -- --parts', () => {
  const bench = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { cwd: root, timeout: 30_000 });

  it('lists the parts in --help, and refuses one it does not have', async () => {
    const { stdout: help } = await bench('--help');
    expect(help).toContain('cold-start, cold-request, throughput, calls, memory');
    expect(help).toContain('--rtt-dynamodb <ms>');
    await expect(bench('--smoke', '--parts', 'cold-request,warm-overhead')).rejects.toMatchObject({
      stderr: expect.stringContaining(
        'unknown part warm-overhead: expected cold-start, cold-request, throughput, calls, memory',
      ),
    });
  });
});
