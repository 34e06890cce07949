/**
 * Option schemas several schemes share (plain JSON Schema literals: the Lambda loads no validator).
 * `examples` give a value a config may use, for documentation and for tests that build one config
 * of every scheme.
 */

/** RFC 9110 token: what an HTTP header name may contain. */
export const HEADER_NAME_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/** A query parameter name: RFC 3986 unreserved characters. */
export const QUERY_NAME_PATTERN = '^[A-Za-z0-9._~-]+$';
/** Secrets Manager name characters, plus ':' so a full ARN is accepted. */
export const SECRET_ID_PATTERN = '^[A-Za-z0-9/_+=.@:-]+$';
/** A wider replay window than an hour no longer protects against replays. */
export const MAX_TOLERANCE_SECONDS = 3600;

export const secretIdOption = {
  type: 'string',
  pattern: SECRET_ID_PATTERN,
  description: 'Secrets Manager secret name or ARN',
  errorMessage: 'must be a Secrets Manager secret name or ARN',
  examples: ['helpcrunch-untag/webhook'],
} as const;

export const headerOption = {
  type: 'string',
  pattern: HEADER_NAME_PATTERN,
  description: 'HTTP header carrying the signature or token (any letter case)',
  errorMessage: 'must be an HTTP header name',
  examples: ['X-Signature'],
} as const;

/** How far the signed time may be from now, either way; `seconds` is what the vendor documents. */
export const toleranceOption = (seconds: number) =>
  ({
    type: 'integer',
    minimum: 1,
    maximum: MAX_TOLERANCE_SECONDS,
    default: seconds,
    description: `how far the signed timestamp may be from now, either way (default ${seconds})`,
    errorMessage: `must be a whole number of seconds from 1 to ${MAX_TOLERANCE_SECONDS}`,
  }) as const;

/** A scheme whose only option is its secret. */
export const secretOnly = {
  type: 'object',
  properties: { secretId: secretIdOption },
  required: ['secretId'],
  additionalProperties: false,
} as const;

/** A timestamped scheme: its secret and its replay window. */
export const secretAndTolerance = (seconds: number) =>
  ({
    type: 'object',
    properties: { secretId: secretIdOption, toleranceSeconds: toleranceOption(seconds) },
    required: ['secretId'],
    additionalProperties: false,
  }) as const;
