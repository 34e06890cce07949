/** `*.yml` imports are rules files: the build plugins validate them and emit the RulesConfig. */
declare module '*.yml' {
  const config: import('./types').RulesConfig;
  export default config;
}
