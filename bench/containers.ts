/**
 * In-process Lambda "containers": each is its own copy of a bundle directory, imported as a new
 * module graph, so it has its own secret cache, HelpCrunch connection pool and Powertools
 * singletons, as separate Lambda containers do.
 */
import { cpSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';

export type Handler = (event: unknown, context: Context) => Promise<unknown>;

export interface Bundle {
  /** The directory the build wrote (entry and chunks). */
  dir: string;
  entryFile: string;
}

/** Handlers read their environment when loaded: set it before the first container starts. */
export function useEnvironment(env: Record<string, string>): void {
  Object.assign(process.env, env);
}

export async function startContainer(bundle: Bundle, containerDir: string): Promise<Handler> {
  cpSync(bundle.dir, containerDir, { recursive: true });
  const entry = join(containerDir, relative(bundle.dir, bundle.entryFile));
  const module = (await import(pathToFileURL(entry).href)) as { handler: Handler };
  return module.handler;
}
