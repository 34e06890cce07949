/**
 * `sources` (webhook senders, each at POST /webhooks/<name>) and `eventSources` (EventBridge
 * sources the stack listens to, each on a bus): the two places a rule's `source` may come from.
 */
import type { EventSourceConfig, EventTypeSelector, WebhookSourceConfig } from '../../lib/rules/types';
import { checkKeys, HEADER_NAME, isRecord, readExpression, readPattern, type Findings, type Report } from './report';
import { defaultEventType, readVerify } from './verify';

export const SOURCE_KEYS = ['verify', 'eventType'] as const;
export const EVENT_SOURCE_KEYS = ['bus'] as const;
/** A webhook source name is the last path segment of /webhooks/<name>. */
export const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._~-]*$/;
/** EventBridge: a `source` is 1–256 characters; partner sources contain '/'. */
const EVENT_SOURCE_NAME = /^[\x21-\x7e]{1,256}$/;
/** An event bus name (partner buses contain '/') or ARN. */
export const BUS = /^(default|[A-Za-z0-9._/-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._/-]{1,256})$/;

export function readSources(raw: unknown, top: Report, findings: Findings): Record<string, WebhookSourceConfig> {
  const sources: Record<string, WebhookSourceConfig> = {};
  if (raw === undefined || raw === null) return sources; // EventBridge-only configs need no sources
  if (!isRecord(raw)) {
    top.add('sources', 'must be a mapping of source name to { verify }');
    return sources;
  }
  for (const [name, entry] of Object.entries(raw)) {
    const report = findings.at(`sources.${name}`);
    if (!SOURCE_NAME.test(name)) {
      report.add('', 'name must be letters, digits, ".", "_", "~" or "-" (it is the last segment of /webhooks/<name>)');
    }
    if (!isRecord(entry)) {
      report.add('', 'must be a mapping with `verify`');
      continue;
    }
    checkKeys(entry, SOURCE_KEYS, report);
    const verify = readVerify(entry.verify, report);
    const eventType = entry.eventType === undefined ? verify && defaultEventType(verify) : readEventTypeSelector(entry.eventType, report);
    if (verify) sources[name] = { verify, ...(eventType && { eventType }) };
  }
  return sources;
}

/** `{header: <name>}` or `{field: <JMESPath>}`. */
function readEventTypeSelector(raw: unknown, report: Report): EventTypeSelector | undefined {
  const shape = 'must be {header: <HTTP header>} or {field: <JMESPath into the payload>}';
  if (!isRecord(raw)) {
    report.add('eventType', shape);
    return undefined;
  }
  checkKeys(raw, ['header', 'field'], report, 'eventType.');
  if ((raw.header === undefined) === (raw.field === undefined)) {
    report.add('eventType', shape);
    return undefined;
  }
  if (raw.header !== undefined) {
    const header = readPattern(raw.header, HEADER_NAME, 'an HTTP header name', 'eventType.header', report);
    return header === undefined ? undefined : { header };
  }
  const field = readExpression(raw.field, 'eventType.field', report);
  return field === undefined ? undefined : { field };
}

export function readEventSources(raw: unknown, top: Report, findings: Findings): Record<string, EventSourceConfig> {
  const eventSources: Record<string, EventSourceConfig> = {};
  if (raw === undefined || raw === null) return eventSources;
  if (!isRecord(raw)) {
    top.add('eventSources', 'must be a mapping of EventBridge source to { bus } (or {})');
    return eventSources;
  }
  for (const [name, entry] of Object.entries(raw)) {
    const report = findings.at(`eventSources.${name}`);
    if (!EVENT_SOURCE_NAME.test(name)) report.add('', 'must be an EventBridge source: 1 to 256 printable characters, no spaces');
    if (entry !== null && !isRecord(entry)) {
      report.add('', 'must be a mapping (`{}` or `{bus: <name or ARN>}`)');
      continue;
    }
    checkKeys(entry ?? {}, EVENT_SOURCE_KEYS, report);
    const bus = entry?.bus === undefined ? 'default' : readPattern(entry.bus, BUS, 'an event bus name or ARN', 'bus', report);
    if (bus !== undefined) eventSources[name] = { bus };
  }
  return eventSources;
}
