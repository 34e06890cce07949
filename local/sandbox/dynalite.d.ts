/** dynalite (npm) ships no types: the part of its documented API (its readme, index.js) this project uses. */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** The LevelDB directory; in memory without one. */
    path?: string;
    /** How long a created table stays CREATING (default 500 ms). */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
  }

  /** An HTTP server speaking DynamoDB's API; close() closes the store too. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
