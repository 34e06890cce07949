/**
 * Handlers log every event (Powertools logger and EMF metrics on stdout/stderr). The benchmark
 * keeps that work in what it measures but discards the text, counting its bytes instead.
 */
export async function withQuietOutput<T>(run: () => Promise<T>): Promise<{ value: T; outputBytes: number }> {
  const originals = { out: process.stdout.write, err: process.stderr.write };
  let outputBytes = 0;
  const discard = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    outputBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = discard;
  process.stderr.write = discard;
  try {
    return { value: await run(), outputBytes };
  } finally {
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
  }
}
