/**
 * Ready-to-paste shell commands that send the examples to the local host. Each works as printed:
 * HMAC, token and basic signatures are computed here for the printed body; a Standard Webhooks
 * signature covers a timestamp, so its command signs with openssl when it runs.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { signWebhook, standardWebhooksKey, type SecretVerifyConfig } from './webhook-signing';

/** One shell word, single-quoted, for sh, bash and zsh. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

const CURL = "curl -sS -w '\\n'";

export function webhookCurl(hostUrl: string, source: string, body: string, signing?: { verify: SecretVerifyConfig; secret: string }): string {
  const url = `${hostUrl}/webhooks/${encodeURIComponent(source)}`;
  if (signing?.verify.scheme === 'standard-webhooks') {
    const keyHex = standardWebhooksKey(signing.secret).toString('hex');
    return [
      `body=${shellQuote(body)}; ts=$(date +%s); id=msg_local_$ts`,
      `sig=$(printf '%s' "$id.$ts.$body" | openssl dgst -sha256 -mac HMAC -macopt hexkey:${keyHex} -binary | openssl base64 -A)`,
      `${CURL} ${url} -H 'content-type: application/json' \\`,
      `  -H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \\`,
      `  --data-binary "$body"`,
    ].join('\n');
  }
  const headers = signing ? signWebhook(signing.verify, signing.secret, body) : {};
  return [
    `${CURL} ${url} -H 'content-type: application/json' \\`,
    ...Object.entries(headers).map(([name, value]) => `  -H ${shellQuote(`${name}: ${value}`)} \\`),
    `  --data-binary ${shellQuote(body)}`,
  ].join('\n');
}

/** POST /events with the short form the host accepts: {source, detail-type, detail}. */
export function eventCurl(hostUrl: string, event: EventBridgeEvent<string, unknown>): string {
  const body = JSON.stringify({ source: event.source, 'detail-type': event['detail-type'], detail: event.detail });
  return [`${CURL} ${hostUrl}/events -H 'content-type: application/json' \\`, `  --data-binary ${shellQuote(body)}`].join('\n');
}
