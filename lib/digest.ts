import { createHash } from 'node:crypto';

/**
 * A fixed-length digest of the parts (132 bits in 22 URL-safe characters), each part length-prefixed so
 * none can run into another. For values that become keys or ids with length limits (a DynamoDB key,
 * an SQS message group id) but can be long themselves: an email, a sender's event id, a tag name.
 */
export function digest(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:`).update(part);
  return hash.digest('base64url').slice(0, 22);
}
