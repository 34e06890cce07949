/** `npm run demo`: the examples through the running `npm start`, with tags before and after (lib/local/demo.ts). */
import { join } from 'node:path';
import { DEMO_HELP, parseDemoArgs } from '../lib/local/cli';
import { DemoUnreachableError, runDemo } from '../lib/local/demo';
import { loadExamples } from '../lib/local/examples';
import { PROJECT_ROOT } from '../lib/local/serverless-config';
import { loadRulesFile } from '../lib/rules/load';
import { UsageError } from '../lib/sandbox/cli-options';

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
