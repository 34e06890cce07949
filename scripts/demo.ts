/** `npm run demo`: the examples through the running `npm start`, with tags before and after (local/host/demo.ts). */
import { join } from 'node:path';
import { DEMO_HELP, parseDemoArgs } from '../local/host/cli';
import { DemoUnreachableError, runDemo } from '../local/host/demo';
import { loadExamples } from '../local/host/examples';
import { PROJECT_ROOT } from '../local/host/serverless-config';
import { loadRulesFile } from '../tooling/rules/load';
import { UsageError } from '../local/sandbox/cli-options';

try {
  const options = parseDemoArgs(process.argv.slice(2), process.env);
  if (!options) {
    console.log(DEMO_HELP);
  } else {
    const accepted = await runDemo(options, loadExamples(), loadRulesFile(join(PROJECT_ROOT, 'rules.yml')), (text) => process.stdout.write(text));
    if (!accepted) process.exitCode = 1;
  }
} catch (error) {
  const known = error instanceof UsageError || error instanceof DemoUnreachableError;
  console.error(known ? (error as Error).message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
