/**
 * One local "execution environment": the entry of a worker thread that imports a function bundle
 * once (the cold start) and runs its `handler(event, context)` for each invocation message.
 * The thread has its own process.env, module instances and stdout, as a Lambda sandbox has.
 * Bundled to plain .mjs by bundle.ts, so it runs the same under tsx, vitest or node.
 */
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { parentPort, workerData } from 'node:worker_threads';
import type { InvokeMessage, InvokeReply, WorkerData } from './lambda-container';
import { createLambdaContext } from './lambda-context';

type Handler = (event: unknown, context: Context) => unknown;

const { handlerFile, exportName, functionName, memoryMb, region } = workerData as WorkerData;
// Locally, stack traces name the .ts lines (in Lambda the maps ship but are not enabled: see Performance).
process.setSourceMapsEnabled(true);
const handler = ((await import(pathToFileURL(handlerFile).href)) as Record<string, Handler>)[exportName];
if (typeof handler !== 'function') throw new Error(`${handlerFile} exports no function '${exportName}'`);
const port = parentPort!;

async function invoke({ id, event, requestId, deadlineMs }: InvokeMessage): Promise<InvokeReply> {
  const context = createLambdaContext({ functionName, requestId, deadlineMs, memoryMb, region });
  try {
    return { id, ok: true, value: await handler(event, context) };
  } catch (error) {
    const { name = 'Error', message = String(error) } = error instanceof Error ? error : {};
    return { id, ok: false, error: { errorType: name, errorMessage: message } };
  }
}

function reply(message: InvokeReply): void {
  try {
    port.postMessage(message);
  } catch (error) {
    // Lambda would fail to serialise such a result too.
    const errorMessage = `Handler result cannot be serialised: ${(error as Error).message}`;
    port.postMessage({ id: message.id, ok: false, error: { errorType: 'Runtime.SerializationError', errorMessage } });
  }
}

port.on('message', (message: InvokeMessage) => {
  void invoke(message).then(reply);
});
port.postMessage('ready');
