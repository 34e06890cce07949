/**
 * The worker's HelpCrunch client: the same client the inline path uses, but every request waits
 * for a token from the bucket, and no call retries inside Lambda — a retry is the message
 * becoming visible again after its backoff, which costs nothing while it waits.
 */
import { createHelpCrunchClient, type ApiKeySource, type HelpCrunchClient } from '../helpcrunch/client';
import { singleAttempt } from '../http/retry';
import type { TokenBucket } from './token-bucket';

export interface PacedClientOptions {
  baseUrl: string;
  apiKey: ApiKeySource;
  timeoutMs: number;
  bucket: TokenBucket;
}

/**
 * One attempt per call (singleAttempt), so a RetryableError's retryAfterMs is exactly HelpCrunch's
 * Retry-After for the worker to turn into the message's visibility. The client's re-send with a
 * freshly read key after a 401 belongs to the same attempt, so a rotated key is still picked up.
 */
export function createPacedHelpCrunchClient({
  baseUrl,
  apiKey,
  timeoutMs,
  bucket,
}: PacedClientOptions): HelpCrunchClient {
  // The client reads the key right before sending each request (searches, deletes and re-sends
  // alike), so taking the token there paces every request without the client knowing about it.
  const pacedKey: ApiKeySource = {
    async get(options) {
      await bucket.take();
      return apiKey.get(options);
    },
  };
  return createHelpCrunchClient({ baseUrl, apiKey: pacedKey, timeoutMs, retryPolicy: singleAttempt });
}
