import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { errorFields, injectLambdaContext, Logger, logLevelFrom } from '../lib/logger';

const context = {
  functionName: 'helpcrunch-untag-test-webhook',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:helpcrunch-untag-test-webhook',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  getRemainingTimeInMillis: () => 5000,
} as unknown as Context;

const TRACE = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=557abcec3ee5a047;Sampled=1';

interface Written {
  stream: 'stdout' | 'stderr';
  entry: Record<string, unknown>;
}

/** What the logger writes, parsed line by line, with the stream it went to; nothing reaches the terminal. */
function capture(): { lines: Written[]; restore(): void } {
  const lines: Written[] = [];
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write };
  for (const stream of ['stdout', 'stderr'] as const) {
    process[stream].write = ((chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean))
        lines.push({ stream, entry: JSON.parse(line) as Record<string, unknown> });
      return true;
    }) as typeof process.stdout.write;
  }
  return {
    lines,
    restore() {
      process.stdout.write = originals.stdout;
      process.stderr.write = originals.stderr;
    },
  };
}

/** What both loggers offer, as the functions call it. */
interface Logging {
  addContext(context: Context): void;
  appendKeys(keys: Record<string, unknown>): void;
  appendPersistentKeys(keys: Record<string, unknown>): void;
  setCorrelationId(id: string): void;
  debug(message: string, fields: Record<string, unknown>): void;
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, error: Error): void;
}

let output: ReturnType<typeof capture>;
afterEach(() => output?.restore());

const env = { AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', _X_AMZN_TRACE_ID: TRACE };

describe('Logger: Powertools Logger shape', () => {
  it('writes the same keys, in the same order, with the same values as Powertools Logger (timestamp and sampling_rate aside)', () => {
    // Powertools reads its environment as it logs.
    const previous = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
    Object.assign(process.env, env);
    try {
      // One error for both, so the stacks agree.
      const error = Object.assign(new Error('boom', { cause: new TypeError('socket hang up') }), { code: 'E_BOOM' });
      const run = (logger: Logging) => {
        output = capture();
        logger.appendPersistentKeys({ dryRun: true });
        logger.addContext(context);
        logger.setCorrelationId('gateway-request-id');
        logger.appendKeys({ source: 'crm', empty: '', missing: undefined, nothing: null });
        logger.setCorrelationId('evt-1');
        logger.info('job untagged', {
          job: {
            rule: 'deal-lost',
            customerId: 1001,
            removed: ['VIP'],
            added: [],
            status: 'untagged',
            reason: null,
            requests: 1,
            ms: 3,
          },
        });
        logger.warn('webhook rejected', { status: 401, code: 'invalid_signature', detail: undefined });
        logger.debug('not at INFO', { hidden: true });
        logger.error('unexpected error', error);
        output.restore();
        return output.lines.map(({ stream, entry: { timestamp, sampling_rate: _, ...rest } }) => {
          expect(timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
          return { stream, keys: Object.keys(rest), entry: rest };
        });
      };
      const ours = run(new Logger({ serviceName: 'helpcrunch-untag' }));
      const powertools = run(new PowertoolsLogger({ serviceName: 'helpcrunch-untag' }));
      expect(ours).toHaveLength(3);
      expect(ours).toEqual(powertools);
      expect(ours[0]!.entry).toMatchObject({
        level: 'INFO',
        cold_start: true,
        xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
        correlation_id: 'evt-1',
        source: 'crm',
        dryRun: true,
      });
      expect(ours[0]!.entry).not.toHaveProperty('empty');
    } finally {
      for (const [name, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe('Logger: invocations', () => {
  it('reports the first invocation of an on-demand start as the cold start, and no other', () => {
    const logger = new Logger({ serviceName: 's', env });
    output = capture();
    logger.addContext(context, env);
    logger.info('first');
    logger.addContext(context, env);
    logger.info('second');
    expect(output.lines.map(({ entry }) => entry.cold_start)).toEqual([true, false]);
  });

  it('never calls a provisioned-concurrency start cold', () => {
    const logger = new Logger({ serviceName: 's', env: { AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency' } });
    output = capture();
    logger.addContext(context, {});
    logger.info('first');
    expect(output.lines[0]!.entry.cold_start).toBe(false);
    expect(output.lines[0]!.entry).not.toHaveProperty('xray_trace_id');
  });

  it('takes a bare trace header as the root', () => {
    const logger = new Logger({ serviceName: 's', env: {} });
    output = capture();
    logger.addContext(context, { _X_AMZN_TRACE_ID: '1-abc' });
    logger.info('line');
    expect(output.lines[0]!.entry.xray_trace_id).toBe('1-abc');
  });

  it('drops the invocation keys and correlation id when the invocation ends, however it ends; persistent keys stay', async () => {
    const logger = new Logger({ serviceName: 's', env: {} });
    const middleware = injectLambdaContext(logger);
    output = capture();
    logger.appendPersistentKeys({ dryRun: true });
    const invoke = async (end: 'after' | 'onError') => {
      await middleware.before!({ event: {}, context, response: undefined, error: undefined, internal: {} } as never);
      logger.appendKeys({ source: 'crm' });
      logger.setCorrelationId('evt-1');
      logger.info('inside');
      await middleware[end]!({} as never);
      logger.info('outside');
    };
    await invoke('after');
    await invoke('onError');
    const pick = ({ entry }: Written) => ({
      message: entry.message,
      source: entry.source,
      correlation_id: entry.correlation_id,
      dryRun: entry.dryRun,
      function_name: entry.function_name,
    });
    const inside = {
      message: 'inside',
      source: 'crm',
      correlation_id: 'evt-1',
      dryRun: true,
      function_name: context.functionName,
    };
    const outside = {
      message: 'outside',
      source: undefined,
      correlation_id: undefined,
      dryRun: true,
      function_name: context.functionName,
    };
    expect(output.lines.map(pick)).toEqual([inside, outside, inside, outside]);
  });

  it('drops fields named like the line’s own keys, as Powertools does', () => {
    const logger = new Logger({ serviceName: 'svc', env: {} });
    output = capture();
    logger.appendKeys({ service: 'spoofed', level: 'DEBUG' });
    logger.info('real', { message: 'spoofed', timestamp: 'then', sampling_rate: 1, kept: 1 });
    const { entry } = output.lines[0]!;
    expect(entry).toMatchObject({ service: 'svc', level: 'INFO', message: 'real', kept: 1 });
    expect(entry.timestamp).not.toBe('then');
    expect(entry).not.toHaveProperty('sampling_rate');
  });
});

describe('Logger: levels', () => {
  it.each([
    [{}, 'INFO'],
    [{ LOG_LEVEL: 'debug' }, 'DEBUG'],
    [{ POWERTOOLS_LOG_LEVEL: 'WARN', LOG_LEVEL: 'DEBUG' }, 'WARN'],
    [{ AWS_LAMBDA_LOG_LEVEL: 'ERROR', POWERTOOLS_LOG_LEVEL: 'DEBUG' }, 'ERROR'],
    [{ AWS_LAMBDA_LOG_LEVEL: 'FATAL' }, 'CRITICAL'],
    [{ POWERTOOLS_LOG_LEVEL: 'verbose' }, 'INFO'],
    [{ POWERTOOLS_LOG_LEVEL: 'constructor' }, 'INFO'],
  ] as const)('%o → %s', (variables, level) => {
    expect(logLevelFrom(variables)).toBe(level);
  });

  it('writes what its level lets through: DEBUG and INFO to stdout, WARN and ERROR to stderr', () => {
    const write = (level: string) => {
      const logger = new Logger({ serviceName: 's', env: { POWERTOOLS_LOG_LEVEL: level } });
      output = capture();
      logger.debug('d');
      logger.info('i');
      logger.warn('w');
      logger.error('e');
      output.restore();
      return output.lines.map(({ stream, entry }) => `${stream}:${String(entry.level)}:${String(entry.message)}`);
    };
    expect(write('DEBUG')).toEqual(['stdout:DEBUG:d', 'stdout:INFO:i', 'stderr:WARN:w', 'stderr:ERROR:e']);
    expect(write('WARN')).toEqual(['stderr:WARN:w', 'stderr:ERROR:e']);
    expect(write('SILENT')).toEqual([]);
    expect(new Logger({ serviceName: 's', env: { LOG_LEVEL: 'warn' } }).getLevelName()).toBe('WARN');
  });
});

describe('Logger: values JSON cannot take as they are', () => {
  it('formats errors wherever they are, writes big integers as strings and cuts cycles, on one line', () => {
    const logger = new Logger({ serviceName: 's', env: {} });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    output = capture();
    // One at a time: each alone must be enough to take the careful path.
    logger.info('nested error', { nested: { failure: new RangeError('out of range') } });
    logger.info('big integer', { big: 2n ** 64n });
    logger.info('cycle', { cyclic });
    logger.info('line after');
    const [nested, big, cycle, after] = output.lines.map(({ entry }) => entry);
    expect(nested!.nested).toEqual({
      failure: expect.objectContaining({
        name: 'RangeError',
        message: 'out of range',
        stack: expect.stringContaining('RangeError: out of range'),
      }),
    });
    expect(big!.big).toBe('18446744073709551616');
    expect(cycle!.cyclic).toEqual({ name: 'loop' });
    expect(after!.message).toBe('line after');
  });

  it('takes the careful path for what is too deep or too big to look through, without walking a web of cycles', () => {
    const logger = new Logger({ serviceName: 's', env: {} });
    let deep: Record<string, unknown> = { failure: new Error('at the bottom') };
    for (let i = 0; i < 40; i++) deep = { deep };
    // Every key leads back: walked key by key, 20 levels of 20 keys would never end.
    const web: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) web[`k${i}`] = web;
    output = capture();
    logger.info('deep', { deep });
    logger.info('web', { web });
    let bottom = output.lines[0]!.entry.deep as Record<string, unknown>;
    while (bottom.deep) bottom = bottom.deep as Record<string, unknown>;
    expect(bottom.failure).toMatchObject({ name: 'Error', message: 'at the bottom' });
    expect(output.lines[1]!.entry.web).toEqual({});
  });

  it('gives an error its location, its cause and its own fields', () => {
    function thrower(): Error {
      return Object.assign(new Error('outer', { cause: 'a reason' }), { code: 'E_OUTER' });
    }
    const fields = errorFields(thrower());
    expect(fields).toMatchObject({ name: 'Error', message: 'outer', cause: 'a reason', code: 'E_OUTER' });
    expect(fields.location).toMatch(/logger\.test\.ts:\d+$/);
  });
});
