/**
 * Ready-to-paste shell commands that send the sample events to the local host. Each works as printed,
 * however long after: a scheme whose signature covers the current time (Stripe, Calendly, Paddle,
 * HubSpot, Standard Webhooks: see each scheme's signInShell) is signed with openssl when the command
 * runs; the others (HMAC, token, basic) are signed here for the printed body (a token in the URL's
 * query for a source that reads it there).
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { schemeOf } from '../../lib/webhook-auth/registry';
import { signWebhookRequest, type SecretVerifyConfig } from './webhook-signing';

/** One shell word, single-quoted, for sh, bash and zsh. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

const CURL = "curl -sS -w '\\n'";

/** A shell pipeline printing the HMAC-SHA256 of its input under `key`, as `openssl dgst` computes it. */
const hmac = (key: Buffer, output: 'hex' | 'base64') =>
  `openssl dgst -sha256 -mac HMAC -macopt hexkey:${key.toString('hex')}${output === 'hex' ? " | sed 's/^.*= //'" : ' -binary | openssl base64 -A'}`;

type Signing = { verify: SecretVerifyConfig; secret: string };

/** `headers`: the sender's own, besides the signature (e.g. an event-type header). */
export function webhookCurl(
  hostUrl: string,
  source: string,
  body: string,
  signing?: Signing,
  headers: Record<string, string> = {},
): string {
  const url = `${hostUrl}/webhooks/${encodeURIComponent(source)}`;
  // HubSpot signs the URL it calls; the function rebuilds it as https on the host it was sent to.
  const calledUrl = `https://${new URL(url).host}${new URL(url).pathname}`;
  // The sender's own content type (a form-encoded sender's) replaces the JSON default.
  const contentType = Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')
    ? ''
    : " -H 'content-type: application/json'";
  const extra = Object.entries(headers).map(([name, value]) => `  -H ${shellQuote(`${name}: ${value}`)} \\`);
  const atRunTime =
    signing && schemeOf(signing.verify).signInShell?.(signing.verify, signing.secret, { url: calledUrl });
  if (atRunTime) {
    return [
      `body=${shellQuote(body)}; ts=$(date +%s)${atRunTime.variables}`,
      `sig=$(printf '%s' "${atRunTime.signed}" | ${hmac(atRunTime.key, atRunTime.output)})`,
      `${CURL} ${url}${contentType} \\`,
      ...extra,
      `  ${Object.entries(atRunTime.headers)
        .map(([name, value]) => `-H "${name}: ${value}"`)
        .join(' ')} \\`,
      `  --data-binary "$body"`,
    ].join('\n');
  }
  // A source whose secret travels in the URL gets it in the query.
  const signed = signing
    ? signWebhookRequest(signing.verify, signing.secret, body, url, { url: calledUrl })
    : { url, headers: {} };
  return [
    `${CURL} ${shellQuote(signed.url)}${contentType} \\`,
    ...extra,
    ...Object.entries(signed.headers).map(([name, value]) => `  -H ${shellQuote(`${name}: ${value}`)} \\`),
    `  --data-binary ${shellQuote(body)}`,
  ].join('\n');
}

/** POST /events with the short form the host accepts: {source, detail-type, detail}. */
export function eventCurl(
  hostUrl: string,
  event: Pick<EventBridgeEvent<string, unknown>, 'source' | 'detail-type' | 'detail'>,
): string {
  const body = JSON.stringify({ source: event.source, 'detail-type': event['detail-type'], detail: event.detail });
  return [
    `${CURL} ${hostUrl}/events -H 'content-type: application/json' \\`,
    `  --data-binary ${shellQuote(body)}`,
  ].join('\n');
}
