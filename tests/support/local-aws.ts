/** Points the function's environment at loopback stand-ins, and captures what it writes to stdout/stderr. */
import { afterAll } from 'vitest';

interface LocalAws {
  secretsUrl: string;
  helpcrunchUrl: string;
  apiKeySecretId: string;
  /** More variables for this file; undefined removes one. */
  env?: Record<string, string | undefined>;
}

/** Sets the same variables serverless.yml sets in Lambda, plus dummy credentials; restored after the file. */
export function useLocalAws({ secretsUrl, helpcrunchUrl, apiKeySecretId, env = {} }: LocalAws): void {
  const values: Record<string, string | undefined> = {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test-access-key',
    AWS_SECRET_ACCESS_KEY: 'test-secret-key',
    HELPCRUNCH_API_URL: helpcrunchUrl,
    HELPCRUNCH_API_KEY_SECRET_ID: apiKeySecretId,
    POWERTOOLS_DEV: 'false',
    ...env,
  };
  const previous = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const apply = (variables: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(variables)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(values);
  afterAll(() => apply(previous));
}

export interface CapturedOutput {
  text(): string;
  restore(): void;
}

/** Records everything written to stdout and stderr (Powertools logs and EMF metrics go there). */
export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const tap = (original: typeof process.stdout.write) =>
    function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof process.stdout.write;
  process.stdout.write = tap(originals.out);
  process.stderr.write = tap(originals.err);
  return {
    text: () => chunks.join(''),
    restore() {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    },
  };
}
