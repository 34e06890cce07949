/**
 * Every test file's setup (vitest.config.ts): what the code under test writes straight to stdout
 * and stderr (Powertools' log lines and EMF metrics go through a Console of their own, which vitest
 * does not intercept) goes through vitest's console instead, so it is kept with the test that
 * wrote it and shown as vitest's `silent` option says: by default only for failing tests
 * (`npm test -- --silent=false` shows it all).
 */
const forward = (log: (text: string) => void) =>
  function write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    // console.log ends the line itself.
    log(text.endsWith('\n') ? text.slice(0, -1) : text);
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  } as typeof process.stdout.write;

process.stdout.write = forward((text) => console.log(text));
process.stderr.write = forward((text) => console.error(text));
