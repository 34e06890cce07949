/**
 * `sources` (webhook senders, each at POST /webhooks/<name>) and `eventSources` (EventBridge
 * sources the stack listens to, each on a bus): what their schema cannot say, and their
 * validated form with every default filled in.
 */
import { isRecord } from '../../lib/json';
import { eventSourceSchema, schemeNames } from '../../lib/rules/shape';
import type { EventSourceConfig, VerifyConfig, WebhookSourceConfig } from '../../lib/rules/types';
import { checkExpression, type Report } from './report';

/** The selectors a source may name, each defaulting to its scheme's (lib/webhook-auth/<scheme>.ts `event`). */
const SELECTOR_KEYS = { eventType: 'type', eventId: 'id', occurredAt: 'occurredAt' } as const;

const SCHEME_NAMES = schemeNames();

/** That each selector's JMESPath parses. */
export function checkSource(raw: unknown, report: Report): void {
  if (!isRecord(raw)) return;
  for (const key of Object.keys(SELECTOR_KEYS)) {
    const selector = raw[key];
    if (isRecord(selector) && typeof selector.field === 'string')
      checkExpression(selector.field, `${key}.field`, report);
  }
}

/** A structurally valid source: its scheme's config with defaults, and its selectors or its scheme's. */
export function toSource(raw: Record<string, unknown>): WebhookSourceConfig {
  const verify = toVerify(raw.verify as Record<string, unknown>);
  const event = SCHEME_NAMES.get((raw.verify as { scheme: string }).scheme)!.scheme.event;
  const selectors = Object.entries(SELECTOR_KEYS).flatMap(([key, schemeKey]) => {
    const selector = raw[key] ?? event[schemeKey];
    return selector === undefined ? [] : [[key, selector]];
  });
  return { verify, ...Object.fromEntries(selectors) };
}

/** The scheme's config: its defaults, what the name fixes (`hmac-sha256`: algorithm sha256), and the keys given. */
function toVerify({ scheme: name, ...given }: Record<string, unknown>): VerifyConfig {
  const { scheme, fixed } = SCHEME_NAMES.get(name as string)!;
  const defaults = Object.entries(scheme.options.properties).flatMap(([key, option]) =>
    'default' in option ? [[key, option.default]] : [],
  );
  return { scheme: scheme.name, ...Object.fromEntries(defaults), ...fixed, ...given } as VerifyConfig;
}

/** A structurally valid eventSources entry (`{}` or null included): its bus, `default` unless named. */
export function toEventSource(raw: Record<string, unknown> | null): EventSourceConfig {
  return { bus: (raw?.bus as string | undefined) ?? eventSourceSchema.properties.bus.default };
}
