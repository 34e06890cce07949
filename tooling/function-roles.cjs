// One IAM execution role per function, each allowed only what that function does:
//   resources.Resources.WebhookRole: ${file(./tooling/function-roles.cjs):webhook}   (and eventbridge, worker, backfill)
//   functions.webhook.role: WebhookRole
// With a role on every function osls generates none, so each role carries what osls would have
// granted too: writing to the function's own log group, and the event source / destination
// permissions (the worker's SQS poller, the EventBridge function's on-failure queue).
//
//   webhook      signing secrets; sqs:SendMessage on the jobs queue; inline: the API key (+ lookups), the ledger
//   eventbridge  sqs:SendMessage on the jobs queue and the events dead-letter queue; inline: the API key (+ lookups), the ledger
//   worker       the API key (+ lookups); consume and re-time the jobs queue; sqs:SendMessage on its dead-letter queue; the ledger
//   backfill     the same as the worker, on the backfill queue (its dead letters go to the jobs' dead-letter queue)
//
// "inline" grants sit behind the InlineDispatch condition and kms:Decrypt (secrets under a
// customer-managed key, param secretsKmsKeyArn) behind HasSecretsKmsKey, both in serverless.yml.
const rules = require('./rules-serverless.cjs');

const NO_VALUE = { Ref: 'AWS::NoValue' };
const arnOf = (resource) => ({ 'Fn::GetAtt': [resource, 'Arn'] });
const when = (condition, statement) => ({ 'Fn::If': [condition, statement, NO_VALUE] });
const allow = (Action, Resource) => ({ Effect: 'Allow', Action, Resource });

/** Whoever applies jobs (the worker; the triggers in inline mode) reads and writes the ledger's items, nothing else of it. */
const ledger = allow(
  ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
  arnOf('LedgerTable'),
);

/** A worker draining `queue`: its secrets, the queue, the jobs' dead-letter queue, the ledger. */
const queueWorker =
  (queue) =>
  ({ kmsKeyArn, helpcrunchSecrets }) => [
    ...secretStatements(helpcrunchSecrets, [], kmsKeyArn),
    // Lambda's SQS poller receives and deletes with the function's role; the worker re-times messages.
    allow(
      ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      arnOf(queue),
    ),
    allow('sqs:SendMessage', arnOf('JobsDeadLetterQueue')),
    ledger,
  ];

/** What osls grants a function on its own log group /aws/lambda/<service>-<stage>-<function>. */
function logStatements(functionName) {
  const logGroup = `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}`;
  return [
    allow(['logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:TagResource'], { 'Fn::Sub': `${logGroup}:*` }),
    allow(['logs:PutLogEvents'], { 'Fn::Sub': `${logGroup}:*:*` }),
  ];
}

/**
 * GetSecretValue on `always`, and on `inlineOnly` in inline mode; kms:Decrypt on the secrets' key
 * (through Secrets Manager only) whenever the role reads any secret.
 */
function secretStatements(always, inlineOnly, kmsKeyArn) {
  if (always.length === 0 && inlineOnly.length === 0) return [];
  const read = (resources) => allow('secretsmanager:GetSecretValue', resources);
  const decrypt = {
    ...allow('kms:Decrypt', kmsKeyArn),
    Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' } } },
  };
  return [
    ...(always.length > 0 ? [read(always)] : []),
    ...(inlineOnly.length > 0 ? [when('InlineDispatch', read(inlineOnly))] : []),
    when(always.length > 0 ? 'HasSecretsKmsKey' : 'InlineDispatchWithSecretsKmsKey', decrypt),
  ];
}

function executionRole(functionName, statements) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] }],
      },
      Policies: [
        {
          PolicyName: `${functionName}-policy`,
          PolicyDocument: { Version: '2012-10-17', Statement: [...logStatements(functionName), ...statements] },
        },
      ],
    },
  };
}

/**
 * Promise.all that waits for every promise: osls answers a variable it cannot resolve yet with a
 * MISSING_VARIABLE_DEPENDENCY rejection it must get back (it resolves the variable later), and one
 * left pending when another failed would end the process as an uncaught exception.
 */
async function allSettled(promises) {
  const results = await Promise.allSettled(promises);
  const failures = results.filter((result) => result.status === 'rejected').map((result) => result.reason);
  const failure = failures.find((error) => error?.code === 'MISSING_VARIABLE_DEPENDENCY') ?? failures[0];
  if (failure) throw failure;
  return results.map((result) => result.value);
}

/** The four roles, for one rules file (resolversFor), as osls variables. */
function rolesFor(resolvers) {
  async function context(resolveVariable) {
    await rules.rulesChecked(resolveVariable);
    const [service, stage, kmsKeyArn, apiKey, lookups] = await allSettled([
      resolveVariable('self:service'),
      resolveVariable('sls:stage'),
      // Read as custom.deployParams checked it: a bad value is reported there, once.
      resolveVariable('self:custom.deployParams.secretsKmsKeyArn'),
      rules.apiKeySecretArns({ resolveVariable }),
      resolvers.lookupSecretArns({ resolveVariable }),
    ]);
    return {
      functionName: (name) => `${service}-${stage}-${name}`,
      kmsKeyArn,
      helpcrunchSecrets: [...apiKey, ...lookups],
    };
  }

  const role =
    (name, statementsOf) =>
    async ({ resolveVariable }) => {
      const ctx = await context(resolveVariable);
      return executionRole(ctx.functionName(name), statementsOf(ctx));
    };

  return {
    webhook: role('webhook', ({ kmsKeyArn, helpcrunchSecrets }) => [
      ...secretStatements(resolvers.signingSecretArns(), helpcrunchSecrets, kmsKeyArn),
      allow('sqs:SendMessage', arnOf('JobsQueue')),
      when('InlineDispatch', ledger),
    ]),
    eventbridge: role('eventbridge', ({ kmsKeyArn, helpcrunchSecrets }) => [
      ...secretStatements([], helpcrunchSecrets, kmsKeyArn),
      // The jobs queue, and the on-failure destination Lambda sends failed events to.
      allow('sqs:SendMessage', [arnOf('JobsQueue'), arnOf('EventsDeadLetterQueue')]),
      when('InlineDispatch', ledger),
    ]),
    worker: role('worker', queueWorker('JobsQueue')),
    backfill: role('backfill', queueWorker('BackfillQueue')),
  };
}

// `rolesFor` lets tests build the roles for a fixture rules file.
module.exports = { ...rolesFor(rules), rolesFor };
