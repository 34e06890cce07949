// serverless.yml `custom.esbuild.config`: serverless-esbuild require()s this file and calls it for
// its options. The esbuild options themselves live in esbuild-options.ts (TypeScript, loaded
// through tsx's CommonJS API), shared with the benchmark.
const { require: requireTs } = require('tsx/cjs/api');

const { lambdaBuildOptions, lambdaEsbuildPlugins } = requireTs('./esbuild-options.ts', __filename);

module.exports = () => ({
  ...lambdaBuildOptions,
  plugins: lambdaEsbuildPlugins(),
  // serverless-esbuild's own options: ES module output, and no package left out of the bundle
  // (the AWS SDK too: the runtime's copy changes under us; ours is the tested one).
  outputFileExtension: '.mjs',
  exclude: [],
});
