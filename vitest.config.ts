import { tsImport } from 'tsx/esm/api';
import { defineConfig } from 'vitest/config';

// Loaded through tsx, not imported: Vite then reads this file as it is (`--configLoader native`),
// without bundling it or warning about the extensionless imports of the modules behind it.
const { nodeBanner, requireLambdaNode } = (await tsImport(
  './tooling/lambda-node.ts',
  import.meta.url,
)) as typeof import('./tooling/lambda-node');
const { rulesVitePlugin } = (await tsImport(
  './tooling/rules-vite-plugin.ts',
  import.meta.url,
)) as typeof import('./tooling/rules-vite-plugin');

requireLambdaNode('The test suite');
console.log(nodeBanner());

export default defineConfig({
  // Rules files are validated and inlined as JSON, exactly as the esbuild build does for Lambda.
  // The functions get the suite's own rules: the project's rules.yml is the user's, checked by
  // validation and the user's rule tests, never by the suite.
  plugins: [rulesVitePlugin({ replace: { file: 'rules.yml', with: 'tests/fixtures/rules/suite.yml' } })],
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 20_000,
    // The report, not the functions' log lines: those are shown for failing tests only
    // (`npm test -- --silent=false` shows them all).
    setupFiles: ['tests/support/output-through-console.ts'],
    silent: 'passed-only',
  },
});
