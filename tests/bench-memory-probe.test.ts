/**
 * The memory probe's peak RSS (bench/memory-probe.ts) is the probe's own, whatever the size of the
 * process that spawned it: on Linux, getrusage's maxRSS keeps the spawner's RSS across the exec.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProbe } from '../bench/bundles';
import type { MemoryProbeReport } from '../bench/memory-probe';

const MiB = 1024 * 1024;
const workDir = mkdtempSync(join(tmpdir(), 'memory-probe-'));
let probe: string;

beforeAll(async () => {
  probe = await buildProbe('bench/memory-probe.ts', workDir);
  writeFileSync(
    join(workDir, 'handler.mjs'),
    "export const handler = async () => ({ statusCode: 200, body: '{}' });\n",
  );
}, 60_000);
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe.runIf(process.platform === 'linux')('the memory probe', () => {
  it('reports its own peak RSS, not that of a bigger process that spawned it', async () => {
    // 400 MiB of this process's memory, touched, so that it is resident when the probe is spawned.
    const ballast = Buffer.alloc(400 * MiB, 1);
    expect(process.memoryUsage().rss / MiB).toBeGreaterThan(400);
    const out = join(workDir, 'report.json');
    await promisify(execFile)(process.execPath, [
      '--expose-gc',
      probe,
      join(workDir, 'handler.mjs'),
      '20',
      '10',
      'probe-secret',
      out,
    ]);
    const report = JSON.parse(readFileSync(out, 'utf8')) as MemoryProbeReport;
    expect(report.samples).toHaveLength(2);
    // A bare Node process with a one-line handler: tens of MiB, nowhere near the ballast.
    expect(report.peakRssMiB).toBeLessThan(200);
    expect(report.peakRssMiB).toBeGreaterThanOrEqual(Math.max(...report.samples.map((sample) => sample.rssMiB)) - 1);
    // Still referenced here, so the ballast stays resident until the probe has run.
    expect(ballast.length).toBe(400 * MiB);
  });
});
