import { defineConfig } from 'vitest/config';
import { nodeBanner, requireLambdaNode } from './tooling/lambda-node';
import { rulesVitePlugin } from './tooling/rules-vite-plugin';

requireLambdaNode('The test suite');
console.log(nodeBanner());

export default defineConfig({
  // rules.yml is validated and inlined as JSON, exactly as the esbuild build does for Lambda.
  plugins: [rulesVitePlugin()],
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
