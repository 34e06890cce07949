/**
 * `npm start`: the HelpCrunch sandbox, a local Secrets Manager and SQS, and the functions behind a local
 * API Gateway stand-in, until Ctrl-C. See `npm start -- --help` and local/host/local-stack.ts.
 *
 * package.json runs it as `node --import tsx`, one process, not under the `tsx` command: that one
 * relays Ctrl-C to its child and SIGKILLs it if the child has not acknowledged within ~60 ms,
 * which on a busy machine cut the shutdown short (exit 130, ports left to the OS).
 */
import { nodeBanner, requireLambdaNode } from '../tooling/lambda-node';
import { banner } from '../local/host/banner';
import { parseStartArgs, START_HELP } from '../local/host/cli';
import { startLocalStack } from '../local/host/local-stack';
import { loadSamples } from '../local/host/samples';
import { UsageError } from '../local/sandbox/cli-options';

function explain(error: unknown): string {
  const { code, address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (code === 'EADDRINUSE')
    return `${address}:${port} is already in use: stop what runs there, or pick another port (see npm start -- --help)`;
  if (error instanceof UsageError) return `${error.message}\nSee: npm start -- --help`;
  return (error as Error).message;
}

try {
  requireLambdaNode('npm start');
  const options = parseStartArgs(process.argv.slice(2), process.env);
  if (!options) {
    console.log(START_HELP);
  } else {
    console.log(`Bundling the functions and starting on ${nodeBanner()}…`);
    const stack = await startLocalStack(options);
    console.log(
      `\n${banner(stack, loadSamples(options.rulesFile, stack.rules), { rateLimit: options.sandbox?.rateLimit, faults: options.sandbox?.faults })}\n`,
    );
    let stopping = false;
    const stop = () => {
      // A second Ctrl-C (or SIGTERM) while stopping changes nothing: the 5 s guard below ends it.
      if (stopping) return;
      stopping = true;
      console.log('\nStopping…');
      setTimeout(() => {
        console.error('Still stopping after 5 s; exiting anyway.');
        process.exit(1);
      }, 5_000).unref();
      stack.close().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(`Stopping failed: ${(error as Error).message}`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }
} catch (error) {
  console.error(explain(error));
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
