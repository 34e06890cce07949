import { defineConfig } from 'vitest/config';
import { rulesVitePlugin } from './scripts/rules-vite-plugin';

export default defineConfig({
  // rules.yml is validated and inlined as JSON, exactly as the esbuild build does for Lambda.
  plugins: [rulesVitePlugin()],
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
