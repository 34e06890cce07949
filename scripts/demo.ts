/** `npm run demo`: the sample events through the running `npm start`, with tags before and after (local/host/demo.ts). */
import { DEMO_HELP, parseDemoArgs } from '../local/host/cli';
import { DemoUnreachableError, runDemo } from '../local/host/demo';
import { loadSamples } from '../local/host/samples';
import { UsageError } from '../local/sandbox/cli-options';
import { loadRulesFile } from '../tooling/rules/load';

try {
  const options = parseDemoArgs(process.argv.slice(2), process.env);
  if (!options) {
    console.log(DEMO_HELP);
  } else {
    const rules = loadRulesFile(options.rulesFile);
    const { samples, fromRuleTests } = loadSamples(options.rulesFile, rules);
    if (!fromRuleTests) {
      console.error(
        `npm run demo sends the events of the rule tests beside ${options.rulesFile} that change the demo customers' tags, and there are none for these rules (README, "Rule tests").`,
      );
      process.exitCode = 1;
    } else if (!(await runDemo(options, samples, rules, (text) => process.stdout.write(text)))) {
      process.exitCode = 1;
    }
  }
} catch (error) {
  const known = error instanceof UsageError || error instanceof DemoUnreachableError;
  console.error(known ? (error as Error).message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
