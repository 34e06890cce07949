import { defineScheme } from './scheme';

/** Unsigned webhooks, accepted as they come: for senders whose network path is trusted otherwise. */
export const none = defineScheme({
  name: 'none',
  docs: 'docs/senders.md#none',
  options: { type: 'object', properties: {}, additionalProperties: false },
  event: {},
  verify: () => {},
  sign: () => ({ headers: {} }),
});
