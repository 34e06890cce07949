/**
 * A webhook body as the payloads rules match: JSON (an object, or a batch of objects), or an
 * HTML form, which some senders post by default (GitHub's `payload=<json>`, Twilio-style fields).
 * Error messages describe the shape but never echo the body.
 */
import { BadEventError } from '../errors';
import { isRecord, jsonKind } from '../json';

/** One payload: the body, or one element of a batch body. */
export type WebhookPayload = Record<string, unknown>;

/** One payload as it arrived from a webhook source, with the request's headers (lower-cased names). */
export interface ReceivedWebhook {
  source: string;
  payload: WebhookPayload;
  headers: Record<string, string>;
}

const FORM = 'application/x-www-form-urlencoded';

// Strict: a lossy decode would turn bytes that are not UTF-8 into U+FFFD, and a mangled email
// would then be searched for (and perhaps found) in HelpCrunch.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The payloads of one request body; `contentType` is the request's Content-Type header, if any. */
export function parseWebhookPayloads(rawBody: Buffer, contentType: string | undefined): WebhookPayload[] {
  let text: string;
  try {
    text = utf8.decode(rawBody);
  } catch {
    throw new BadEventError('invalid_encoding', 'Request body is not valid UTF-8');
  }
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
  for (const [key, value] of formFields(text)) {
    const previous = fields.get(key);
    fields.set(key, previous === undefined ? value : [previous, value].flat());
  }
  const payload = fields.get('payload');
  if (fields.size === 1 && typeof payload === 'string' && /^\s*[[{]/.test(payload)) return parseJson(payload);
  // fromEntries defines own properties, so a field named "__proto__" cannot touch the prototype.
  return [Object.fromEntries(fields)];
}

/**
 * `application/x-www-form-urlencoded` pairs, decoded strictly: URLSearchParams would keep a
 * malformed escape as text and turn an escaped byte sequence that is not UTF-8 into U+FFFD.
 */
function formFields(text: string): [string, string][] {
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part.replaceAll('+', ' '));
    } catch {
      throw new BadEventError('invalid_encoding', 'Form body has an escape that is malformed or not UTF-8');
    }
  };
  return text
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const equals = pair.indexOf('=');
      return equals === -1 ? [decode(pair), ''] : [decode(pair.slice(0, equals)), decode(pair.slice(equals + 1))];
    });
}

/** A JSON object, or a non-empty array of objects (a batch, as HubSpot sends). */
function parseJson(text: string): WebhookPayload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadEventError('invalid_json', 'Request body is not valid JSON');
  }
  if (isRecord(parsed)) return [parsed];
  if (!Array.isArray(parsed)) {
    throw new BadEventError(
      'invalid_payload',
      `Request body must be a JSON object or array of objects, not ${jsonKind(parsed)}`,
    );
  }
  if (parsed.length === 0) throw new BadEventError('invalid_payload', 'Request body is an empty array');
  const badIndex = parsed.findIndex((element) => !isRecord(element));
  if (badIndex !== -1) {
    throw new BadEventError(
      'invalid_payload',
      `Request body element ${badIndex} is ${jsonKind(parsed[badIndex])}, expected an object`,
    );
  }
  return parsed as WebhookPayload[];
}
