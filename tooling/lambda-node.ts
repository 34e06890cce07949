/**
 * The Node major every npm script runs on: Lambda's nodejs24.x. The project brings it as the
 * `node` devDependency, which npm puts first on the PATH of `npm run` and `npx`, so tests, the
 * local host, the build and the benchmark run on the runtime's major whatever the machine has.
 */
export const LAMBDA_NODE_MAJOR = 24;

/** One line for a command's output, e.g. "Node v24.21.0 (Lambda nodejs24.x)". */
export function nodeBanner(): string {
  return `Node ${process.version} (Lambda nodejs${LAMBDA_NODE_MAJOR}.x)`;
}

/**
 * Refuses to go on under another major, e.g. `node_modules/.bin/vitest` started from a shell
 * whose own node is older: it would test a runtime Lambda does not run.
 */
export function requireLambdaNode(command: string): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major === LAMBDA_NODE_MAJOR) return;
  throw new Error(
    `${command} runs on Node ${LAMBDA_NODE_MAJOR} (Lambda nodejs${LAMBDA_NODE_MAJOR}.x), not ${process.version}: ` +
      `run it through npm (npm test, npm start, npm run …) or npx, which use the project's own node@${LAMBDA_NODE_MAJOR}`,
  );
}
