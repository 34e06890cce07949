/** Webhook bodies as payloads: JSON objects and batches, GitHub's `payload=` form, and plain forms. */
import { describe, expect, it } from 'vitest';
import { BadEventError } from '../lib/errors';
import { parseWebhookPayloads } from '../lib/triggers/webhook-payloads';

const FORM = 'application/x-www-form-urlencoded';
const json = '{"event":"deal.won","customer":{"email":"ana@example.com"}}';

const parse = (text: string, contentType?: string) => parseWebhookPayloads(Buffer.from(text), contentType);
function rejection(text: string, contentType?: string): BadEventError {
  try {
    parse(text, contentType);
  } catch (error) {
    expect(error).toBeInstanceOf(BadEventError);
    return error as BadEventError;
  }
  throw new Error(`accepted ${text}`);
}

describe('JSON bodies', () => {
  it('wraps a single object, whatever the content type says', () => {
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'text/plain', undefined]) {
      expect(parse(json, contentType)).toEqual([JSON.parse(json)]);
    }
  });

  it('returns the elements of an array of objects', () => {
    expect(parse('[{"a":1},{"b":2}]', 'application/json')).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('reports invalid JSON without echoing the body', () => {
    for (const text of ['{"token":"s3cr3t"', '', 'plain text s3cr3t', 'token=s3cr3t']) {
      const error = rejection(text, 'application/json');
      expect(error.code).toBe('invalid_json');
      expect(error.message).toMatch(/not valid JSON/);
      expect(error.message).not.toContain('s3cr3t');
    }
  });

  it.each([
    ['"s3cr3t"', /a string/],
    ['42', /a number/],
    ['null', /null/],
    ['true', /a boolean/],
    ['[]', /empty array/],
    ['[{"a":1},3]', /element 1 is a number/],
    ['[{"a":1},{"b":2},["x"]]', /element 2 is an array/],
    ['[null]', /element 0 is null/],
  ])('rejects %s as invalid_payload', (text, message) => {
    const error = rejection(text);
    expect(error.code).toBe('invalid_payload');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('s3cr3t');
  });
});

describe('form bodies (application/x-www-form-urlencoded)', () => {
  it("reads GitHub's default delivery, a single payload field holding the JSON", () => {
    const body = `payload=${encodeURIComponent('{"action":"cancelled","sponsorship":{"sponsor":{"login":"octocat"}}}')}`;

    expect(parse(body, FORM)).toEqual([{ action: 'cancelled', sponsorship: { sponsor: { login: 'octocat' } } }]);
    expect(parse(body, 'Application/X-WWW-Form-Urlencoded; charset=UTF-8')).toHaveLength(1);
  });

  it('holds a payload field to the JSON rules: a batch is a batch, and broken JSON is invalid_json', () => {
    expect(parse(`payload=${encodeURIComponent('[{"a":1},{"b":2}]')}`, FORM)).toEqual([{ a: 1 }, { b: 2 }]);
    expect(rejection(`payload=${encodeURIComponent('{"token":"s3cr3t"')}`, FORM).code).toBe('invalid_json');
    expect(rejection(`payload=${encodeURIComponent('[1]')}`, FORM).code).toBe('invalid_payload');
  });

  it('reads any other form as one payload of its fields, keys as sent and values decoded', () => {
    const body = 'type=subscribe&data%5Bemail%5D=ada%40example.com&data[merges][FNAME]=Ada&note=two+words%21';

    expect(parse(body, FORM)).toEqual([
      { type: 'subscribe', 'data[email]': 'ada@example.com', 'data[merges][FNAME]': 'Ada', note: 'two words!' },
    ]);
  });

  it('makes a repeated key a list of its values, in order', () => {
    expect(parse('tag=a&x=1&tag=b&tag=c', FORM)).toEqual([{ tag: ['a', 'b', 'c'], x: '1' }]);
  });

  it('keeps a payload field that is not JSON, or comes with other fields, as a plain field', () => {
    expect(parse('payload=hello', FORM)).toEqual([{ payload: 'hello' }]);
    expect(parse(`payload=${encodeURIComponent('{"a":1}')}&other=1`, FORM)).toEqual([
      { payload: '{"a":1}', other: '1' },
    ]);
  });

  it('defines hostile field names as plain own keys', () => {
    const [payload] = parse('__proto__=x&constructor=y', FORM);

    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(Object.keys(payload!)).toEqual(['__proto__', 'constructor']);
    expect(payload!.constructor).toBe('y');
  });

  it('reads an empty form as one payload without fields', () => {
    expect(parse('', FORM)).toEqual([{}]);
  });
});

describe('encoding', () => {
  const notUtf8 = Buffer.concat([
    Buffer.from('{"email":"ann'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('@example.com"}'),
  ]);

  it('refuses a JSON body that is not UTF-8 instead of searching for a mangled email', () => {
    expect(() => parseWebhookPayloads(notUtf8, 'application/json')).toThrowError(
      expect.objectContaining({ name: 'BadEventError', code: 'invalid_encoding', status: 400 }),
    );
  });

  it('refuses an escaped byte sequence that is not UTF-8 in a form', () => {
    expect(() => parseWebhookPayloads(Buffer.from('email=ann%FF%FE%40example.com'), FORM)).toThrowError(
      expect.objectContaining({ code: 'invalid_encoding' }),
    );
  });

  it('refuses a malformed escape in a form', () => {
    expect(() => parseWebhookPayloads(Buffer.from('email=100%'), FORM)).toThrowError(
      expect.objectContaining({ code: 'invalid_encoding' }),
    );
  });

  it('reads UTF-8 beyond ASCII, in JSON and in forms', () => {
    expect(parseWebhookPayloads(Buffer.from('{"name":"Zoë 🚀"}'), 'application/json')).toEqual([{ name: 'Zoë 🚀' }]);
    expect(parseWebhookPayloads(Buffer.from('name=Zo%C3%AB+%F0%9F%9A%80'), FORM)).toEqual([{ name: 'Zoë 🚀' }]);
  });

  it('parses JSON nested as deep as the body limit allows', () => {
    const depth = 100_000;
    const body = Buffer.from(`{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    expect(parseWebhookPayloads(body, 'application/json')).toHaveLength(1);
  });
});
