/** tooling/deploy-params.cjs: every deploy param checked against the values it may take. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const { checked, checkParam, PARAMS } = require('../tooling/deploy-params.cjs') as {
  checked(args: {
    options?: { param?: string[] };
    resolveVariable(variable: string): Promise<unknown>;
  }): Promise<Record<string, unknown>>;
  checkParam(name: string, value: unknown): unknown;
  PARAMS: Record<string, unknown>;
};

const defaults = (
  parse(readFileSync(new URL('../serverless.yml', import.meta.url), 'utf8')) as {
    params: { default: Record<string, unknown> };
  }
).params.default;

/** osls's resolveVariable over serverless.yml's defaults, with --param overrides. */
const resolverFor =
  (overrides: Record<string, string> = {}) =>
  async (variable: string) => {
    const name = variable.replace(/^param:/, '');
    return name in overrides ? overrides[name] : defaults[name];
  };

describe('deploy params', () => {
  it('checks exactly the params serverless.yml defines, and its defaults pass', async () => {
    expect(Object.keys(PARAMS).sort()).toEqual(Object.keys(defaults).sort());
    const values = await checked({ options: {}, resolveVariable: resolverFor() });
    expect(values).toMatchObject({
      dispatch: 'queue',
      workerConcurrency: 2,
      ratePerMinute: 110,
      dryRun: 'false',
      logLevel: 'INFO',
      alarmTopicArn: '',
      dedupDays: 7,
      maxCustomersPerRequest: 100,
    });
  });

  it('returns integers as numbers, from text (--param) or YAML numbers alike', () => {
    expect(checkParam('workerConcurrency', '3')).toBe(3);
    expect(checkParam('maxReceiveCount', 8)).toBe(8);
    expect(checkParam('logRetentionDays', '14')).toBe(14);
  });

  it.each([
    ['dispatch', 'queued', 'expected inline | queue'],
    ['workerConcurrency', '1', 'expected an integer from 2 to 1000'],
    ['workerConcurrency', '2.5', 'expected an integer from 2 to 1000'],
    ['ratePerMinute', '0', 'expected an integer from 1 to 6000'],
    ['jobsAgeAlarmSeconds', '345600', 'expected an integer from 60 to 345599'],
    ['logRetentionDays', '10', 'expected 1 | 3 | 5 | 7 | 14 | 30'],
    ['dryRun', 'TRUE', 'expected false | true'],
    ['logLevel', 'info', 'expected TRACE | DEBUG | INFO'],
    ['helpcrunchApiUrl', 'http://api.helpcrunch.com/v1', 'expected an https:// URL whose path is /v1'],
    ['helpcrunchApiUrl', 'https://api.helpcrunch.com', 'expected an https:// URL whose path is /v1'],
    ['secretsKmsKeyArn', 'alias/secrets', 'expected empty, or a KMS key ARN'],
    // The jobs queue's backstop of 100 receives must stay above 10 × the worker's attempts.
    ['maxReceiveCount', '11', 'expected an integer from 1 to 10'],
    // Stripe retries for 3 days; its Events API reaches 30 days back.
    ['dedupDays', '2', 'expected an integer from 3 to 30'],
    ['dedupDays', '31', 'expected an integer from 3 to 30'],
  ])('refuses %s=%s: %s', (name, value, message) => {
    expect(() => checkParam(name, value)).toThrow(`Invalid --param ${name}=${value}: ${message}`);
  });

  it('accepts an empty optional ARN, and an ARN in any partition', () => {
    expect(checkParam('alarmTopicArn', '')).toBe('');
    expect(checkParam('secretsKmsKeyArn', 'arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/abcd-1234')).toBe(
      'arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/abcd-1234',
    );
  });

  it('reports every problem at once, including a --param no one reads', async () => {
    const failure = checked({
      options: { param: ['dispatch=bogus', 'ratePerMinte=60', 'maxReceiveCount=0'] },
      resolveVariable: resolverFor({ dispatch: 'bogus', maxReceiveCount: '0' }),
    });
    await expect(failure).rejects.toThrow(/Unknown --param ratePerMinte: expected one of .*ratePerMinute/);
    await expect(failure).rejects.toThrow('Invalid --param dispatch=bogus: expected inline | queue');
    await expect(failure).rejects.toThrow('Invalid --param maxReceiveCount=0: expected an integer from 1 to 10');
  });

  it('passes on an error osls raises while reading a param (it resolves the param later)', async () => {
    const pending = Object.assign(new Error('Cannot resolve variable'), { code: 'MISSING_VARIABLE_DEPENDENCY' });
    await expect(checked({ options: {}, resolveVariable: () => Promise.reject(pending) })).rejects.toBe(pending);
  });
});
