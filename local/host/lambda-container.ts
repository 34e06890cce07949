/**
 * The parent side of a local execution environment (lambda-worker.ts in a worker thread): starts
 * it with the function's environment, hands it invocations with a deadline, and forwards each
 * line it prints. Invocations run concurrently in the one environment; Lambda would use several,
 * which only matters for log keys, since the function keeps no per-invocation module state.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';

export interface WorkerData {
  handlerFile: string;
  /** The handler's export (serverless.yml `handler: file.<exportName>`). */
  exportName: string;
  functionName: string;
  memoryMb: number;
  region: string;
}

export interface InvokeMessage {
  id: number;
  event: unknown;
  requestId: string;
  deadlineMs: number;
}

/** How a handler's invocation ended: its return value, or Lambda's error shape for what it threw. */
export type InvokeResult =
  | { ok: true; value: unknown }
  | { ok: false; error: { errorType: string; errorMessage: string } };
export type InvokeReply = InvokeResult & { id: number };

export interface LambdaContainerOptions extends WorkerData {
  /** The bundled lambda-worker.ts. */
  runtimeFile: string;
  timeoutMs: number;
  /** The function's whole environment (process.env inside the container). */
  env: Record<string, string>;
  /** Every line the function writes, as it writes it. */
  onOutput(line: string, stream: 'stdout' | 'stderr'): void;
}

export interface LambdaContainer {
  invoke(event: unknown, requestId?: string): Promise<InvokeResult>;
  close(): Promise<void>;
}

function failure(errorType: string, errorMessage: string): InvokeResult {
  return { ok: false, error: { errorType, errorMessage } };
}

/** Resolves once the handler module is imported; rejects with the import error otherwise. */
export async function startLambdaContainer(options: LambdaContainerOptions): Promise<LambdaContainer> {
  const { runtimeFile, timeoutMs, env, onOutput, ...workerData } = options;
  const pending = new Map<number, (result: InvokeResult) => void>();
  let nextId = 0;
  let closed = false;

  let current: Promise<Worker> | undefined;

  function spawn(): Promise<Worker> {
    // execArgv [] runs plain Node, without the parent's loaders (tsx, vitest), as Lambda would.
    const worker = new Worker(runtimeFile, { workerData, env, execArgv: [], stdout: true, stderr: true });
    for (const stream of ['stdout', 'stderr'] as const) {
      createInterface({ input: worker[stream], crlfDelay: Infinity }).on('line', (line) => onOutput(line, stream));
    }
    const ready = new Promise<Worker>((resolve, reject) => {
      worker.on('message', (message: InvokeReply | 'ready') => {
        if (message === 'ready') return resolve(worker);
        const { id, ...result } = message;
        pending.get(id)?.(result);
      });
      worker.once('error', reject);
      worker.once('exit', (code) => {
        reject(new Error(`${workerData.functionName} exited with code ${code} while starting`));
        // A crashed environment is replaced on the next invocation, like a new Lambda cold start.
        if (current === ready) current = undefined;
        for (const settle of pending.values()) settle(failure('Runtime.ExitError', `Runtime exited with code ${code}`));
      });
    });
    return ready;
  }

  current = spawn();
  await current;

  return {
    async invoke(event, requestId = randomUUID()) {
      if (closed) return failure('Runtime.Closed', 'The local function host is shutting down');
      current ??= spawn();
      const worker = await current;
      const id = nextId++;
      const deadlineMs = Date.now() + timeoutMs;
      return new Promise<InvokeResult>((resolve) => {
        const timer = setTimeout(
          () => settle(failure('Sandbox.Timedout', `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)),
          timeoutMs,
        );
        const settle = (result: InvokeResult) => {
          clearTimeout(timer);
          pending.delete(id);
          resolve(result);
        };
        pending.set(id, settle);
        worker.postMessage({ id, event, requestId, deadlineMs } satisfies InvokeMessage);
      });
    },
    async close() {
      closed = true;
      const worker = await current?.catch(() => undefined);
      current = undefined;
      await worker?.terminate();
    },
  };
}
