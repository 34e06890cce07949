/**
 * Ready-to-paste shell commands that send the sample events to the local host. Each works as printed,
 * however long after: HMAC, token and basic signatures are computed here for the printed body;
 * the signatures of Standard Webhooks, Stripe, Calendly and Paddle cover a timestamp that must be
 * recent, so their commands sign with openssl when they run.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { TIMESTAMPED_FORMATS } from '../../lib/webhook-auth/timestamped';
import { signWebhook, standardWebhooksKey, type SecretVerifyConfig } from './webhook-signing';

/** One shell word, single-quoted, for sh, bash and zsh. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

const CURL = "curl -sS -w '\\n'";

/** A shell pipeline printing the HMAC-SHA256 of its input under `key`, as `openssl dgst` computes it. */
const hmac = (key: Buffer, output: 'hex' | 'base64') =>
  `openssl dgst -sha256 -mac HMAC -macopt hexkey:${key.toString('hex')}${output === 'hex' ? " | sed 's/^.*= //'" : ' -binary | openssl base64 -A'}`;

type Signing = { verify: SecretVerifyConfig; secret: string };

/** How the shell signs a scheme whose signature covers the current time ($ts), over $body, into $sig. */
function signingAtRunTime({
  verify,
  secret,
}: Signing): { variables: string; signed: string; key: Buffer; output: 'hex' | 'base64'; headers: string } | undefined {
  if (verify.scheme === 'standard-webhooks') {
    const headers = '-H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig"';
    return {
      variables: '; id=msg_local_$ts',
      signed: '$id.$ts.$body',
      key: standardWebhooksKey(secret),
      output: 'base64',
      headers,
    };
  }
  if (!Object.hasOwn(TIMESTAMPED_FORMATS, verify.scheme)) return undefined;
  const format = TIMESTAMPED_FORMATS[verify.scheme as keyof typeof TIMESTAMPED_FORMATS];
  const headers = `-H "${format.header}: ${format.timestampKey}=$ts${format.separator}${format.signatureKey}=$sig"`;
  return {
    variables: '',
    signed: `$ts${format.joiner}$body`,
    key: Buffer.from(secret, 'utf8'),
    output: 'hex',
    headers,
  };
}

/** `headers`: the sender's own, besides the signature (e.g. an event-type header). */
export function webhookCurl(
  hostUrl: string,
  source: string,
  body: string,
  signing?: Signing,
  headers: Record<string, string> = {},
): string {
  const url = `${hostUrl}/webhooks/${encodeURIComponent(source)}`;
  const extra = Object.entries(headers).map(([name, value]) => `  -H ${shellQuote(`${name}: ${value}`)} \\`);
  const atRunTime = signing && signingAtRunTime(signing);
  if (atRunTime) {
    return [
      `body=${shellQuote(body)}; ts=$(date +%s)${atRunTime.variables}`,
      `sig=$(printf '%s' "${atRunTime.signed}" | ${hmac(atRunTime.key, atRunTime.output)})`,
      `${CURL} ${url} -H 'content-type: application/json' \\`,
      ...extra,
      `  ${atRunTime.headers} \\`,
      `  --data-binary "$body"`,
    ].join('\n');
  }
  // HubSpot signs the URL it calls; the function rebuilds it as https on the host it was sent to.
  const signature = signing
    ? signWebhook(signing.verify, signing.secret, body, { url: `https://${new URL(url).host}${new URL(url).pathname}` })
    : {};
  return [
    `${CURL} ${url} -H 'content-type: application/json' \\`,
    ...extra,
    ...Object.entries(signature).map(([name, value]) => `  -H ${shellQuote(`${name}: ${value}`)} \\`),
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
