/** WORKER_CONCURRENCY: how many worker instances share the account's HelpCrunch rate (lib/config.ts). */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../lib/config';
import { ConfigError } from '../lib/errors';

describe('WORKER_CONCURRENCY', () => {
  it('defaults to one instance, which then paces at the whole rate', () => {
    expect(readConfig({}).workerConcurrency).toBe(1);
  });

  it('reads the instances serverless.yml allows the event source', () => {
    expect(readConfig({ WORKER_CONCURRENCY: '3', HELPCRUNCH_RATE_PER_MINUTE: '90' })).toMatchObject({ workerConcurrency: 3, ratePerMinute: 90 });
  });

  it.each(['0', '-2', '1.5', 'two'])('refuses %s', (value) => {
    expect(() => readConfig({ WORKER_CONCURRENCY: value })).toThrow(ConfigError);
    expect(() => readConfig({ WORKER_CONCURRENCY: value })).toThrow(`WORKER_CONCURRENCY must be an integer >= 1, got '${value}'`);
  });
});
