/**
 * A webhook body as the payloads rules match: JSON (an object, or a batch of objects), or an
 * HTML form, which some senders post by default (GitHub's `payload=<json>`, Twilio-style fields).
 * Error messages describe the shape but never echo the body.
 */
import { BadEventError } from './errors';

export type WebhookPayload = Record<string, unknown>;

const FORM = 'application/x-www-form-urlencoded';

/** The payloads of one request body; `contentType` is the request's Content-Type header, if any. */
export function parseWebhookPayloads(rawBody: Buffer, contentType: string | undefined): WebhookPayload[] {
  const text = rawBody.toString('utf8');
  return mediaType(contentType) === FORM ? parseForm(text) : parseJson(text);
}

/** `type/subtype` without parameters (`; charset=…`), lower-cased. */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/**
 * A form whose only field is `payload` holding a JSON object or array is that JSON (GitHub's
 * default content type). Any other form is one payload of its fields, keys kept as sent
 * (`data[email]` stays one key), a repeated key becoming a list of its values.
 */
function parseForm(text: string): WebhookPayload[] {
  const fields = new Map<string, string | string[]>();
  for (const [key, value] of new URLSearchParams(text)) {
    const previous = fields.get(key);
    fields.set(key, previous === undefined ? value : [previous, value].flat());
  }
  const payload = fields.get('payload');
  if (fields.size === 1 && typeof payload === 'string' && /^\s*[[{]/.test(payload)) return parseJson(payload);
  // fromEntries defines own properties, so a field named "__proto__" cannot touch the prototype.
  return [Object.fromEntries(fields)];
}

/** A JSON object, or a non-empty array of objects (a batch, as HubSpot sends). */
function parseJson(text: string): WebhookPayload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadEventError('invalid_json', 'Request body is not valid JSON');
  }
  if (isObject(parsed)) return [parsed];
  if (!Array.isArray(parsed)) {
    throw new BadEventError('invalid_payload', `Request body must be a JSON object or array of objects, not ${jsonKind(parsed)}`);
  }
  if (parsed.length === 0) throw new BadEventError('invalid_payload', 'Request body is an empty array');
  const badIndex = parsed.findIndex((element) => !isObject(element));
  if (badIndex !== -1) {
    throw new BadEventError('invalid_payload', `Request body element ${badIndex} is ${jsonKind(parsed[badIndex])}, expected an object`);
  }
  return parsed as WebhookPayload[];
}

function isObject(value: unknown): value is WebhookPayload {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
