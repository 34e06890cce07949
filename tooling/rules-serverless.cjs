// serverless.yml variables computed from rules.yml, e.g.
//   Resources: ${file(./tooling/rules-serverless.cjs):eventBridgeResources}
// and the secrets each function reads, as IAM resources (function-roles.cjs grants them).
// osls require()s this file and calls the named export with ({ options, resolveVariable }).
// rules.yml is validated once, as custom.rules (`checked`), and every other variable that reads it
// waits for that one: an invalid file fails `serverless package` with its message once (osls
// reports each failed variable, and the same error only once), naming the rule and field.
const { createHash } = require('node:crypto');
const path = require('node:path');
const { require: requireTs } = require('tsx/cjs/api');

const { loadRulesFile, rulesFingerprint } = requireTs('./rules/load.ts', __filename);
const { compileRules } = requireTs('../lib/rules/match.ts', __filename);
const { messageOnly } = require('./deploy-params.cjs');

/** A CloudFormation logical id for a source: its letters and digits, and a hash so different sources never share one. */
function logicalIdOf(source) {
  const readable = source.replace(/[^A-Za-z0-9]/g, '').slice(0, 40);
  return `EventRule${readable}${createHash('sha256').update(source).digest('hex').slice(0, 8)}`;
}

/** The variables for one rules file; the file is read on every call, so edits are picked up. */
function resolversFor(rulesFile) {
  /** custom.rules: the file validated (its fingerprint), or the validation message alone, no stack. */
  function checked() {
    try {
      loadRulesFile(rulesFile);
    } catch (error) {
      throw messageOnly(error);
    }
    return rulesFingerprint(rulesFile);
  }

  /**
   * The EventBridge rules of the eventbridge function as CloudFormation: one rule per rules.yml
   * eventSources entry on its bus (omitted for the default bus; a name or an ARN of an existing
   * bus otherwise), and the permission for it to invoke the function. Written here rather than as
   * osls `eventBridge` events, which would *create* (and on removal delete) a bus given by name,
   * and cannot name an existing one otherwise than by its full ARN. Logical ids come from the
   * source, so adding a source leaves the others' rules in place.
   */
  function eventBridgeResources() {
    const patterns = compileRules(loadRulesFile(rulesFile)).eventBridgePatterns();
    const functionArn = { 'Fn::GetAtt': ['EventbridgeLambdaFunction', 'Arn'] };
    const resources = {};
    for (const { source, bus, detailType } of patterns) {
      const id = logicalIdOf(source);
      resources[id] = {
        Type: 'AWS::Events::Rule',
        Properties: {
          Description: `helpcrunch-untag: ${source} events to the eventbridge function`,
          ...(bus !== 'default' && { EventBusName: bus }),
          EventPattern: { source: [source], ...(detailType && { 'detail-type': detailType }) },
          State: 'ENABLED',
          Targets: [{ Arn: functionArn, Id: 'eventbridge' }],
        },
      };
      resources[`${id}Permission`] = {
        Type: 'AWS::Lambda::Permission',
        Properties: {
          Action: 'lambda:InvokeFunction',
          FunctionName: functionArn,
          Principal: 'events.amazonaws.com',
          SourceArn: { 'Fn::GetAtt': [id, 'Arn'] },
        },
      };
    }
    return resources;
  }

  /** Secrets Manager ids (names or ARNs) of every webhook source's signing secret, sorted, unique. */
  function signingSecretIds() {
    const { sources } = loadRulesFile(rulesFile);
    const ids = Object.values(sources).flatMap(({ verify }) => (verify.scheme === 'none' ? [] : [verify.secretId]));
    return [...new Set(ids)].sort();
  }

  /** IAM resources (secretArn) of the signing secrets: what the webhook function reads. */
  function signingSecretArns() {
    return signingSecretIds().map(secretArn);
  }

  /**
   * IAM resources of the secrets that customer lookups (rules.yml `lookups`) read in senders' APIs:
   * granted to every function that resolves customers (the worker; the triggers in inline mode).
   */
  function lookupSecretArns() {
    const { lookups } = loadRulesFile(rulesFile);
    return [...new Set(Object.values(lookups).map((lookup) => lookup.secretId))].sort().map(secretArn);
  }

  return { checked, eventBridgeResources, signingSecretIds, signingSecretArns, lookupSecretArns };
}

/**
 * The IAM resource that grants one secret, from the id the functions read it by:
 *   a name          arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-??????
 *                   (Secrets Manager ends every secret's ARN in "-" and 6 random characters)
 *   a partial ARN   (no random suffix) the same, "-??????" appended
 *   a complete ARN  as it is
 * An ARN ending in "-" and 6 letters or digits is complete: Secrets Manager reads an id the same
 * way, so a secret whose *name* ends like that must be given by its complete ARN or its name.
 */
function secretArn(id) {
  if (!id.startsWith('arn:')) {
    return {
      'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${id}-??????`,
    };
  }
  const name = id.split(':secret:')[1] ?? '';
  return /-[A-Za-z0-9]{6}$/.test(name) ? id : `${id}-??????`;
}

/**
 * IAM resource of the HelpCrunch API key (param apiKeySecretId, as custom.deployParams checked it):
 * what every HelpCrunch caller reads.
 */
async function apiKeySecretArns({ resolveVariable }) {
  return [secretArn(await resolveVariable('self:custom.deployParams.apiKeySecretId'))];
}

/**
 * Waits for custom.rules: when rules.yml is invalid, that variable's error (the same one, so osls
 * prints it once) instead of this variable's own report of it.
 */
async function rulesChecked(resolveVariable) {
  await resolveVariable('self:custom.rules');
}

const projectRules = resolversFor(path.join(__dirname, '..', 'rules.yml'));

// `resolversFor` lets tests point the same functions at a fixture.
module.exports = {
  ...projectRules,
  async eventBridgeResources({ resolveVariable }) {
    await rulesChecked(resolveVariable);
    return projectRules.eventBridgeResources();
  },
  rulesChecked,
  resolversFor,
  secretArn,
  apiKeySecretArns,
};
