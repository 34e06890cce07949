// serverless-esbuild `custom.esbuild.plugins`: it require()s this file and expects an array of
// esbuild plugins. The plugin is TypeScript, loaded through tsx's CommonJS API.
const { require: requireTs } = require('tsx/cjs/api');

const { rulesEsbuildPlugin } = requireTs('./rules-esbuild-plugin.ts', __filename);

module.exports = [rulesEsbuildPlugin()];
