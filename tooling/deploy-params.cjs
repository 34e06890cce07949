// The deploy parameters (serverless.yml `params:`, `--param="name=value"`), checked before they reach
// the template. serverless.yml reads them all through one variable:
//   custom.deployParams: ${file(./tooling/deploy-params.cjs):checked}
//   DISPATCH: ${self:custom.deployParams.dispatch}
// osls calls `checked` with ({ options, resolveVariable }); every param is read as `param:<name>`
// (so per-stage `params:` apply) and returned as the template needs it: integers as numbers,
// everything else as text. A bad value, or a --param no one reads, fails `serverless package` with
// e.g. `Invalid --param dispatch=bogus: expected inline | queue`.

const oneOf = (...values) => ({
  expected: values.join(' | '),
  parse: (raw) => values.find((value) => String(value) === raw),
});

const integer = (min, max) => ({
  expected: `an integer from ${min} to ${max}`,
  parse: (raw) => {
    const value = /^-?\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
    return value >= min && value <= max ? value : undefined;
  },
});

const matching = (expected, pattern) => ({ expected, parse: (raw) => (pattern.test(raw) ? raw : undefined) });

const arnOf = (service, resource) => new RegExp(`^arn:aws[a-z-]*:${service}:[a-z0-9-]+:\\d{12}:${resource}$`);

const optional = ({ expected, parse }) => ({
  expected: `empty, or ${expected}`,
  parse: (raw) => (raw === '' ? '' : parse(raw)),
});

/** CloudWatch Logs' retention choices (AWS::Logs::LogGroup RetentionInDays). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** The jobs queue keeps messages 4 days (serverless.yml); an age alarm must fire before they expire. */
const JOBS_RETENTION_SECONDS = 4 * 24 * 3600;

const PARAMS = {
  apiKeySecretId: matching('a Secrets Manager secret name or ARN', /^\S+$/),
  // HelpCrunch's API lives under /v1: a base URL without it makes every call a 404 (lib/helpcrunch/api-url.ts).
  helpcrunchApiUrl: matching('an https:// URL whose path is /v1', /^https:\/\/[^\s/?#]+\/v1\/?$/),
  dispatch: oneOf('inline', 'queue'),
  dryRun: oneOf('false', 'true'),
  logLevel: oneOf('TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'),
  logRetentionDays: oneOf(...LOG_RETENTION_DAYS),
  secretCacheTtlSeconds: integer(0, 86_400),
  helpcrunchTimeoutMs: integer(100, 25_000),
  maxBodyBytes: integer(1, 6 * 1024 * 1024),
  timeBudgetMarginMs: integer(0, 10_000),
  maxJobsPerRequest: integer(1, 10_000),
  maxCustomersPerRequest: integer(1, 10_000),
  maximumEventAge: integer(60, 21_600),
  ratePerMinute: integer(1, 6_000),
  // The worker's attempts at a job. The jobs queue's backstop (serverless.yml: 100 receives) must
  // stay above what a job can collect: up to 9 messages ahead of it in its group's batch, each
  // tried this often, and its own attempts.
  maxReceiveCount: integer(1, 10),
  // Days the ledger remembers an event: at least Stripe's 3 days of retries, at most the 30 days
  // its Events API (what a backfill replays from) reaches back.
  dedupDays: integer(3, 30),
  // Lambda's SQS ScalingConfig.MaximumConcurrency: 2 to 1000.
  workerConcurrency: integer(2, 1_000),
  jobsAgeAlarmSeconds: integer(60, JOBS_RETENTION_SECONDS - 1),
  workerErrorRatePercent: integer(0, 100),
  alarmTopicArn: optional(matching('an SNS topic ARN', arnOf('sns', '[\\w-]+'))),
  secretsKmsKeyArn: optional(
    matching('a KMS key ARN (arn:…:kms:<region>:<account>:key/<id>)', arnOf('kms', 'key/[\\w-]+')),
  ),
};

/** An error that fails packaging: osls prints an error's stack, and the message is all there is to say. */
function messageOnly(error) {
  return Object.assign(error, { stack: error.message });
}

/** A deploy parameter that fails packaging. */
function paramError(message) {
  return messageOnly(new Error(message));
}

/** The value as the template needs it, or throws naming the allowed values. */
function checkParam(name, value) {
  const spec = PARAMS[name];
  if (!spec) throw paramError(`Unknown param ${name}`);
  const raw = value === undefined || value === null ? '' : String(value).trim();
  const parsed = spec.parse(raw);
  if (parsed === undefined) throw paramError(`Invalid --param ${name}=${raw}: expected ${spec.expected}`);
  return parsed;
}

/** --param names no one reads, most likely typos that would otherwise deploy the default silently. */
function unknownCliParams(options = {}) {
  const given = [options.param ?? []].flat().map((item) => String(item).split('=')[0]);
  return given.filter((name) => !(name in PARAMS));
}

/** Every param, checked: one problem per line when several are wrong. */
async function checked({ options, resolveVariable }) {
  // Read all first: osls answers a param it cannot read yet with an error it must get back.
  const names = Object.keys(PARAMS);
  const raw = await Promise.all(names.map((name) => resolveVariable(`param:${name}`)));
  const problems = unknownCliParams(options).map(
    (name) => `Unknown --param ${name}: expected one of ${names.join(', ')}`,
  );
  const values = {};
  names.forEach((name, index) => {
    try {
      values[name] = checkParam(name, raw[index]);
    } catch (error) {
      problems.push(error.message);
    }
  });
  if (problems.length > 0) throw paramError(problems.join('\n'));
  return values;
}

module.exports = { checked, checkParam, messageOnly, PARAMS, JOBS_RETENTION_SECONDS };
