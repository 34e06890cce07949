/**
 * The local execution environment (a worker thread running the bundled lambda-worker.ts) with
 * small handler modules written for each case: context, environment, errors, timeouts, crashes.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildLambdaRuntime } from '../local/host/bundle';
import {
  startLambdaContainer,
  type LambdaContainer,
  type LambdaContainerOptions,
} from '../local/host/lambda-container';

let dir: string;
let runtimeFile: string;
let container: LambdaContainer | undefined;
let output: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lambda-container-test-'));
  runtimeFile = join(dir, 'runtime.mjs');
  await buildLambdaRuntime(runtimeFile);
});

afterAll(() => rm(dir, { recursive: true, force: true }));

afterEach(async () => {
  await container?.close();
  container = undefined;
});

async function start(source: string, options: Partial<LambdaContainerOptions> = {}): Promise<LambdaContainer> {
  const handlerFile = join(dir, `handler-${Math.random().toString(36).slice(2)}.mjs`);
  await writeFile(handlerFile, source);
  output = [];
  container = await startLambdaContainer({
    runtimeFile,
    handlerFile,
    exportName: 'handler',
    functionName: 'test-fn',
    memoryMb: 256,
    region: 'eu-west-1',
    timeoutMs: 5_000,
    env: { GREETING: 'hello' },
    onOutput: (line, stream) => output.push(`${stream}: ${line}`),
    ...options,
  });
  return container;
}

describe('startLambdaContainer', () => {
  it('calls the handler with the event and a Lambda context counting down from the timeout', async () => {
    const fn = await start(
      `export const handler = async (event, context) => ({
      event,
      requestId: context.awsRequestId,
      functionName: context.functionName,
      arn: context.invokedFunctionArn,
      memory: context.memoryLimitInMB,
      remaining: context.getRemainingTimeInMillis(),
    });`,
      { timeoutMs: 4_000 },
    );

    const result = await fn.invoke({ hello: 'world' }, 'req-1');

    expect(result.ok).toBe(true);
    const value = (result as { value: Record<string, unknown> }).value;
    expect(value).toMatchObject({
      event: { hello: 'world' },
      requestId: 'req-1',
      functionName: 'test-fn',
      arn: 'arn:aws:lambda:eu-west-1:000000000000:function:test-fn',
      memory: '256',
    });
    expect(value.remaining).toBeGreaterThan(3_000);
    expect(value.remaining).toBeLessThanOrEqual(4_000);
  });

  it('gives the handler its own environment, leaving the host process untouched', async () => {
    const fn = await start(`process.env.SET_BY_FUNCTION = 'yes';
      export const handler = async () => ({ greeting: process.env.GREETING, path: process.env.PATH ?? null });`);

    const result = await fn.invoke({});

    expect(result).toEqual({ ok: true, value: { greeting: 'hello', path: null } });
    expect(process.env.SET_BY_FUNCTION).toBeUndefined();
  });

  it("reports a thrown error in Lambda's errorType/errorMessage shape", async () => {
    const fn = await start(`class RuleError extends Error { name = 'RuleError' }
      export const handler = async () => { throw new RuleError('no rule for that'); };`);

    expect(await fn.invoke({})).toEqual({
      ok: false,
      error: { errorType: 'RuleError', errorMessage: 'no rule for that' },
    });
  });

  it('times the invocation out at the deadline, as Lambda does', async () => {
    const fn = await start('export const handler = () => new Promise(() => {});', { timeoutMs: 300 });
    const started = Date.now();

    const result = await fn.invoke({});

    expect(result).toEqual({
      ok: false,
      error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 0.30 seconds' },
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('forwards every line the function prints, stdout and stderr', async () => {
    const fn = await start(
      `export const handler = async () => { console.log('{"message":"job untagged"}'); console.error('oops'); return 1; };`,
    );

    await fn.invoke({});
    await expect.poll(() => output).toEqual(['stdout: {"message":"job untagged"}', 'stderr: oops']);
  });

  it('fails in-flight invocations when the runtime exits, and cold-starts a fresh one for the next', async () => {
    const fn = await start(`let calls = 0;
      export const handler = async (event) => { if (event.exit) process.exit(3); return ++calls; };`);
    expect(await fn.invoke({})).toEqual({ ok: true, value: 1 });

    expect(await fn.invoke({ exit: true })).toEqual({
      ok: false,
      error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited with code 3' },
    });
    // Module state starts over: a new environment imported the module again.
    expect(await fn.invoke({})).toEqual({ ok: true, value: 1 });
  });

  it('rejects at start when the handler module cannot be imported or lacks the export', async () => {
    await expect(start('throw new Error("broken at import");')).rejects.toThrow('broken at import');
    await expect(start('export const other = () => 1;')).rejects.toThrow("exports no function 'handler'");
  });

  it('answers no more invocations once closed', async () => {
    const fn = await start('export const handler = async () => 1;');
    await fn.close();

    expect(await fn.invoke({})).toMatchObject({ ok: false, error: { errorType: 'Runtime.Closed' } });
  });
});
