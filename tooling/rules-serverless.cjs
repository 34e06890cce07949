// serverless.yml variables computed from rules.yml, e.g.
//   events: ${file(./tooling/rules-serverless.cjs):eventBridgeEvents}
// osls require()s this file and calls the named export with ({ options, resolveVariable }).
// An invalid rules.yml throws here, which fails `serverless package` with the validation message.
const path = require('node:path');
const { require: requireTs } = require('tsx/cjs/api');

const { loadRulesFile } = requireTs('./rules/load.ts', __filename);
const { compileRules } = requireTs('../lib/rules/match.ts', __filename);

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

  /**
   * IAM resources for GetSecretValue: the HelpCrunch API key (param apiKeySecretId) and every
   * signing secret. A name becomes an ARN pattern: Secrets Manager appends "-" and 6 random
   * characters to the name in the ARN.
   */
  async function secretArns({ resolveVariable } = {}) {
    const apiKeySecretId = resolveVariable ? await resolveVariable('param:apiKeySecretId') : undefined;
    const ids = [...new Set([...(apiKeySecretId ? [apiKeySecretId] : []), ...signingSecretIds()])];
    return ids.map((id) =>
      id.startsWith('arn:')
        ? id
        : { 'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${id}-??????` },
    );
  }

  return { eventBridgeEvents, signingSecretIds, secretArns };
}

// `resolversFor` lets tests point the same functions at a fixture.
module.exports = { ...resolversFor(path.join(__dirname, '..', 'rules.yml')), resolversFor };
