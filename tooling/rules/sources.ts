/**
 * `sources` (webhook senders, each at POST /webhooks/<name>) and `eventSources` (EventBridge
 * sources the stack listens to, each on a bus): the two places a rule's `source` may come from.
 */
import type { EventSelector, EventSourceConfig, WebhookSourceConfig } from '../../lib/rules/types';
import { isRecord } from '../../lib/json';
import { checkKeys, HEADER_NAME, readExpression, readPattern, readSection, type Findings, type Report } from './report';
import { schemeOf } from '../../lib/webhook-auth/registry';
import { readVerify } from './verify';

/** The selectors a source may name, each defaulting to its scheme's (lib/webhook-auth/<scheme>.ts `event`). */
export const SELECTOR_KEYS = { eventType: 'type', eventId: 'id', occurredAt: 'occurredAt' } as const;
export const SOURCE_KEYS = ['verify', ...(Object.keys(SELECTOR_KEYS) as (keyof typeof SELECTOR_KEYS)[])] as const;
export const EVENT_SOURCE_KEYS = ['bus'] as const;
/** A webhook source name is the last path segment of /webhooks/<name>. */
export const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._~-]*$/;
/** EventBridge: a `source` is 1–256 characters; partner sources contain '/'. */
const EVENT_SOURCE_NAME = /^[\x21-\x7e]{1,256}$/;
/** An event bus name (partner buses contain '/') or ARN. */
export const BUS =
  /^(default|[A-Za-z0-9._/-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._/-]{1,256})$/;

export function readSources(raw: unknown, top: Report, findings: Findings): Record<string, WebhookSourceConfig> {
  const section = {
    key: 'sources',
    shape: 'source name to { verify }',
    name: SOURCE_NAME,
    nameRule: 'name must be letters, digits, ".", "_", "~" or "-" (it is the last segment of /webhooks/<name>)',
  };
  return readSection(raw, section, top, findings, (entry, report) => {
    if (!isRecord(entry)) {
      report.add('', 'must be a mapping with `verify`');
      return undefined;
    }
    checkKeys(entry, SOURCE_KEYS, report);
    const verify = readVerify(entry.verify, report);
    const selectors = Object.entries(SELECTOR_KEYS).flatMap(([key, schemeKey]) => {
      const selector =
        entry[key] === undefined ? verify && schemeOf(verify).event[schemeKey] : readSelector(entry[key], key, report);
      return selector ? [[key, selector]] : [];
    });
    return verify && { verify, ...Object.fromEntries(selectors) };
  });
}

/** `{header: <name>}` or `{field: <JMESPath>}`. */
function readSelector(raw: unknown, key: string, report: Report): EventSelector | undefined {
  const shape = 'must be {header: <HTTP header>} or {field: <JMESPath into the payload>}';
  if (!isRecord(raw)) {
    report.add(key, shape);
    return undefined;
  }
  checkKeys(raw, ['header', 'field'], report, `${key}.`);
  if ((raw.header === undefined) === (raw.field === undefined)) {
    report.add(key, shape);
    return undefined;
  }
  if (raw.header !== undefined) {
    const header = readPattern(raw.header, HEADER_NAME, 'an HTTP header name', `${key}.header`, report);
    return header === undefined ? undefined : { header };
  }
  const field = readExpression(raw.field, `${key}.field`, report);
  return field === undefined ? undefined : { field };
}

export function readEventSources(raw: unknown, top: Report, findings: Findings): Record<string, EventSourceConfig> {
  const section = {
    key: 'eventSources',
    shape: 'EventBridge source to { bus } (or {})',
    name: EVENT_SOURCE_NAME,
    nameRule: 'must be an EventBridge source: 1 to 256 printable characters, no spaces',
  };
  return readSection(raw, section, top, findings, (entry, report) => {
    if (entry !== null && !isRecord(entry)) {
      report.add('', 'must be a mapping (`{}` or `{bus: <name or ARN>}`)');
      return undefined;
    }
    checkKeys(entry ?? {}, EVENT_SOURCE_KEYS, report);
    const bus =
      entry?.bus === undefined ? 'default' : readPattern(entry.bus, BUS, 'an event bus name or ARN', 'bus', report);
    return bus === undefined ? undefined : { bus };
  });
}
