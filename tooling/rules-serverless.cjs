// serverless.yml variables computed from rules.yml, e.g.
//   events: ${file(./tooling/rules-serverless.cjs):eventBridgeEvents}
// and the secrets each function reads, as IAM resources (function-roles.cjs grants them).
// osls require()s this file and calls the named export with ({ options, resolveVariable }).
// An invalid rules.yml throws here, which fails `serverless package` with the validation message.
const path = require('node:path');
const { require: requireTs } = require('tsx/cjs/api');

const { loadRulesFile } = requireTs('./rules/load.ts', __filename);
const { compileRules } = requireTs('../lib/rules/match.ts', __filename);
const { checkParam } = require('./deploy-params.cjs');

/**
 * The bus the EventBridge rules listen on: the `eventBus` param (`--param="eventBus=…"` or
 * serverless.yml `params:`), else the EVENT_BUS environment variable, else the default bus.
 * osls *creates* a bus given by plain name (other than "default"): give an existing one as an ARN.
 */
async function eventBus(resolveVariable) {
  if (!resolveVariable) return process.env.EVENT_BUS || 'default';
  return resolveVariable("param:eventBus, env:EVENT_BUS, 'default'");
}

/** The variables for one rules file; the file is read on every call, so edits are picked up. */
function resolversFor(rulesFile) {
  /** The `events:` list of the EventBridge function: one eventBridge event per rules.yml source. */
  async function eventBridgeEvents({ resolveVariable } = {}) {
    const patterns = compileRules(loadRulesFile(rulesFile)).eventBridgePatterns();
    const bus = await eventBus(resolveVariable);
    return patterns.map(({ source, detailType }) => ({
      eventBridge: {
        eventBus: bus,
        pattern: { source: [source], ...(detailType && { 'detail-type': detailType }) },
      },
    }));
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
   * IAM resources of the secrets that customer lookups in senders' APIs read: none yet (the
   * extension point for them). Whatever this returns is granted to every HelpCrunch caller (the
   * worker; the triggers in inline mode), next to the API key: return secretArn(id) for each.
   */
  async function lookupSecretArns() {
    return [];
  }

  return { eventBridgeEvents, signingSecretIds, signingSecretArns, lookupSecretArns };
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
    return { 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${id}-??????` };
  }
  const name = id.split(':secret:')[1] ?? '';
  return /-[A-Za-z0-9]{6}$/.test(name) ? id : `${id}-??????`;
}

/** IAM resource of the HelpCrunch API key (param apiKeySecretId): what every HelpCrunch caller reads. */
async function apiKeySecretArns({ resolveVariable }) {
  return [secretArn(checkParam('apiKeySecretId', await resolveVariable('param:apiKeySecretId')))];
}

// `resolversFor` lets tests point the same functions at a fixture.
module.exports = { ...resolversFor(path.join(__dirname, '..', 'rules.yml')), resolversFor, secretArn, apiKeySecretArns };
