/** `npm run invoke -- <webhook|eventbridge> <event.json>`: one local invocation (local/host/invoke.ts). */
import { INVOKE_HELP, parseInvokeArgs, runInvoke } from '../local/host/invoke';
import { UsageError } from '../local/sandbox/cli-options';

try {
  const args = parseInvokeArgs(process.argv.slice(2), process.env);
  if (!args) console.log(INVOKE_HELP);
  else if (!(await runInvoke(args, process.env, (text) => process.stdout.write(text)))) process.exitCode = 1;
} catch (error) {
  console.error(error instanceof UsageError ? `${error.message}\n\n${INVOKE_HELP}` : (error as Error).message);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
