/**
 * Sends one event to a running local host as its sender would: a webhook POSTed to
 * /webhooks/<source>, signed with the source's scheme and the demo secret the local stack stores
 * for it; an EventBridge event POSTed to /events. Rule tests, `npm run demo` and `npm run invoke`
 * all send through here.
 */
import type { RulesConfig } from '../../lib/rules/types';
import type { CaseTrigger } from '../rule-tests/cases';
import { demoSigningSecret, signWebhookRequest } from './webhook-signing';

export interface OutgoingEvent {
  trigger: CaseTrigger;
  /** A webhook's body (a string as it is, anything else as JSON), or an EventBridge event's detail. */
  payload: unknown;
}

export interface HostReply {
  status: number;
  /** The parsed JSON reply, or its text when it is not JSON. */
  body: unknown;
}

/** The webhook's request: its URL, headers (signature included) and body. */
export function webhookRequest(
  hostUrl: string,
  rules: RulesConfig,
  { trigger, payload }: OutgoingEvent,
): { url: string; headers: Headers; body: string } {
  if (trigger.kind !== 'webhook') throw new Error('not a webhook');
  const verify = rules.sources[trigger.source]?.verify;
  if (!verify) throw new Error(`the rules have no webhook source '${trigger.source}'`);
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const target = `${hostUrl}/webhooks/${encodeURIComponent(trigger.source)}`;
  // HubSpot signs the URL it calls; the function rebuilds it as https on the host it was sent to.
  const calledUrl = `https://${new URL(target).host}${new URL(target).pathname}`;
  const signed =
    trigger.sign && verify.scheme !== 'none'
      ? signWebhookRequest(verify, demoSigningSecret(verify), body, target, { url: calledUrl })
      : { url: target, headers: {} };
  // The sender's own headers and query parameters replace the default and signature ones of the same name.
  const headers = new Headers({ 'content-type': 'application/json', ...signed.headers });
  for (const [name, value] of Object.entries(trigger.headers)) headers.set(name, value);
  const url = new URL(signed.url);
  for (const [name, value] of Object.entries(trigger.query ?? {})) url.searchParams.set(name, value);
  return { url: url.toString(), headers, body };
}

export async function sendToHost(hostUrl: string, rules: RulesConfig, event: OutgoingEvent): Promise<HostReply> {
  const { url, init } =
    event.trigger.kind === 'webhook'
      ? (({ url, headers, body }) => ({ url, init: { method: 'POST', headers, body } }))(
          webhookRequest(hostUrl, rules, event),
        )
      : {
          url: `${hostUrl}/events`,
          init: {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              source: event.trigger.source,
              'detail-type': event.trigger.detailType,
              detail: event.payload,
            }),
          },
        };
  const response = await fetch(url, init);
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, body: text };
  }
}

/** The code of a refused event: a webhook's `errors[0].code`, or a rejected EventBridge event's (Lambda's error shape). */
export function errorCodeOf({ body }: HostReply): string | undefined {
  const { errors, errorMessage } = (body ?? {}) as { errors?: { code?: unknown }[]; errorMessage?: unknown };
  const code = errors?.[0]?.code;
  if (typeof code === 'string') return code;
  // "retryable: <code>: …" / "not retryable: <code>: …" (lib/errors.ts EventRejectedError)
  return typeof errorMessage === 'string' ? /^(?:not )?retryable: ([a-z_]+):/.exec(errorMessage)?.[1] : undefined;
}
