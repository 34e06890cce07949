declare module 'dynalite' {
  import type { Server } from 'node:http';
  /** dynalite (npm): DynamoDB's API over HTTP, in memory unless given a path. */
  export default function dynalite(options?: {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    path?: string;
  }): Server;
}
