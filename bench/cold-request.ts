/**
 * Part 2, the cold request: a new process, the handler's import, its first invocation, the
 * answer; everything a caller waits for when its event lands on a new container. Each run is a
 * fresh Node process started as Lambda starts the function (bench/cold-request-probe.ts), over
 * two networks: plain loopback, where round trips are free, and TLS with each service's round
 * trip (./cold-request-network.ts), where connection set-up and the secret reads cost what they
 * cost from Lambda. Functions that change tags inline also talk to the ledger (DynamoDB); every
 * run sends a new event, so the ledger never answers it as a duplicate. Every subject runs once
 * per round and network, in alternating order; ratios to the reference are taken within a round.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProbe } from './bundles';
import type { ProbeReport, ProbeRequest, ProbeRequestTimes } from './cold-request-probe';
import {
  startColdRequestNetwork,
  type ColdRequestNetwork,
  type NetworkName,
  type RoundTrips,
  type Service,
} from './cold-request-network';
import { lambdaEnvironment } from './cold-start';
import { busEvent, signedWebhookEvent } from './events';
import { SIGNING_SECRET } from './local-services';
import { lambdaNodeFlags, type NodeRuntime } from './node-runtime';
import { pairedRatios, round, spread, type Spread } from './stats';

export interface ColdRequestSubject {
  /** e.g. "webhook, queue dispatch". */
  name: string;
  entryFile: string;
  memoryMiB: number;
  timeoutMs: number;
  /** The function's environment as deployed (NODE_OPTIONS applies); the services' addresses are added. */
  environment: Record<string, string>;
  trigger: 'webhook' | 'eventbridge';
  /** What the first request goes to, after the secrets. */
  downstream: Extract<Service, 'helpcrunch' | 'sqs'>;
}

/** One run's milestones, in ms since the parent spawned the process. */
export interface ColdRequestTimeline {
  totalMs: number;
  nodeReadyMs: number;
  importedMs: number;
  /** First Secrets Manager request sent → last one answered. */
  secretReads?: [number, number];
  /** Every Secrets Manager request went over a connection opened during init (false when none was sent). */
  secretsConnectedAtInit: boolean;
  /** The first downstream request's connection: opened → ready (TLS done, or connected). */
  downstreamConnection?: [number, number];
  /** The first downstream request: sent → answered. */
  downstreamRequest?: [number, number];
  /** Its connection was opened during init, before the handler was called. */
  connectedAtInit: boolean;
  /** The ledger's DynamoDB requests (inline dispatch): first sent → last answered. */
  ledgerRequests?: [number, number];
  ledgerCalls: number;
  /** The first ledger request went over a connection opened during init. */
  ledgerConnectedAtInit: boolean;
}

export interface ColdRequestFigures {
  subject: string;
  network: NetworkName;
  downstream: Service;
  totalMs: Spread;
  /** Per round: total ÷ the reference's in the same round and network; absent for the reference. */
  ratio?: Spread;
  /** Medians over the runs of each milestone (ms since spawn). */
  phases: {
    nodeReadyMs: number;
    importedMs: number;
    secretReads?: [number, number];
    downstreamConnection?: [number, number];
    downstreamRequest?: [number, number];
    ledgerRequests?: [number, number];
  };
  /** Runs whose first downstream request went over a connection opened at init. */
  connectedAtInit: number;
  /** Runs whose secret reads all went over connections opened at init. */
  secretsConnectedAtInit: number;
  /** Median DynamoDB requests per cold request (0 without the ledger), and runs whose first went over a connection opened at init. */
  ledgerCalls: number;
  ledgerConnectedAtInit: number;
  runs: ColdRequestTimeline[];
}

export interface ColdRequestResult {
  runs: number;
  roundTripsMs: RoundTrips;
  figures: ColdRequestFigures[];
}

export interface ColdRequestOptions {
  runs: number;
  roundTrips: RoundTrips;
  workDir: string;
}

function probeRequest(subject: ColdRequestSubject): ProbeRequest {
  const payload = { status: 'closed', helpcrunchId: 1001, customerId: 1001, tags: ['VIP', 'Lead'] };
  const event = subject.trigger === 'webhook' ? signedWebhookEvent(payload, SIGNING_SECRET) : busEvent(payload);
  return { event, functionName: subject.name, timeoutMs: subject.timeoutMs, awsRequestId: randomUUID() };
}

/** Whether the answer is what a done request answers: untagged inline, queued, or the reference's 200. */
function answerProblem(response: unknown): string | undefined {
  const { statusCode, body } = (response ?? {}) as { statusCode?: number; body?: string };
  const reply = (statusCode === undefined ? response : JSON.parse(body ?? '{}')) as {
    results?: { status?: string }[];
    queued?: number;
  };
  if (statusCode !== undefined && statusCode !== 200 && statusCode !== 202) return `status ${statusCode}`;
  const done =
    reply.queued === 1 ||
    reply.results?.[0]?.status === 'untagged' ||
    (statusCode === 200 && reply.results === undefined);
  if (done) return undefined;
  return `answer ${JSON.stringify(reply).slice(0, 200)}`;
}

type TimedReport = ProbeReport & { spawnedAt: number };

async function runProbe(
  node: NodeRuntime,
  probe: string,
  subject: ColdRequestSubject,
  env: Record<string, string>,
  workDir: string,
): Promise<TimedReport> {
  const requestFile = join(workDir, 'cold-request.json');
  const outFile = join(workDir, 'cold-request-report.json');
  writeFileSync(requestFile, JSON.stringify(probeRequest(subject)));
  const args = [
    ...lambdaNodeFlags(subject.memoryMiB, subject.environment.NODE_OPTIONS),
    probe,
    subject.entryFile,
    requestFile,
    outFile,
  ];
  const spawnedAt = Number(process.hrtime.bigint()) / 1e6;
  // The handler's logs go to /dev/null, as fast as Lambda's log pipe takes them.
  const childEnv = { ...lambdaEnvironment(subject.name, subject.memoryMiB, subject.environment), ...env };
  const child = spawn(node.path, args, { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve, reject) =>
    child.once('error', reject).once('close', resolve),
  );
  if (code !== 0) throw new Error(`${subject.name}: cold request probe exited with ${code}: ${stderr.slice(-2000)}`);
  const report = JSON.parse(readFileSync(outFile, 'utf8')) as ProbeReport;
  const problem = answerProblem(report.response);
  if (problem) throw new Error(`${subject.name}: the cold request was not done (${problem})`);
  return { ...report, spawnedAt };
}

function timeline(report: TimedReport, subject: ColdRequestSubject, network: ColdRequestNetwork): ColdRequestTimeline {
  const since = (at: number) => round(at - report.spawnedAt, 1);
  const requestsTo = (service: Service) =>
    report.requests.filter((request) => network.serviceAt(request.port) === service);
  const connectionOf = (request?: ProbeRequestTimes) =>
    request?.connection === undefined ? undefined : report.connections[request.connection];
  /** First sent → last answered, over all of them. */
  const span = (requests: ProbeRequestTimes[]): [number, number] | undefined => {
    const answered = requests.map((request) => request.answeredAt).filter((at) => at !== undefined);
    if (requests.length === 0 || answered.length === 0) return undefined;
    return [since(Math.min(...requests.map((request) => request.startedAt))), since(Math.max(...answered))];
  };
  const secretRequests = requestsTo('secretsManager');
  const secretReads = span(secretRequests);
  const openedAtInit = (request?: ProbeRequestTimes) => {
    const opened = connectionOf(request);
    return opened !== undefined && opened.startedAt <= report.importedAt;
  };
  const first = requestsTo(subject.downstream)[0];
  const connection = connectionOf(first);
  const ready = connection?.secureAt ?? connection?.connectedAt;
  const ledger = requestsTo('dynamodb');
  const ledgerRequests = span(ledger);
  return {
    totalMs: since(report.answeredAt),
    nodeReadyMs: since(report.startedAt),
    importedMs: since(report.importedAt),
    ...(secretReads && { secretReads }),
    secretsConnectedAtInit: secretRequests.length > 0 && secretRequests.every(openedAtInit),
    ...(connection && ready !== undefined && { downstreamConnection: [since(connection.startedAt), since(ready)] }),
    ...(first?.answeredAt !== undefined && { downstreamRequest: [since(first.startedAt), since(first.answeredAt)] }),
    connectedAtInit: openedAtInit(first),
    ...(ledgerRequests && { ledgerRequests }),
    ledgerCalls: ledger.length,
    ledgerConnectedAtInit: openedAtInit(ledger[0]),
  };
}

const median = (values: number[]) => spread(values).median;
const medianSpan = (spans: ([number, number] | undefined)[]): [number, number] | undefined => {
  const present = spans.filter((span) => span !== undefined);
  if (present.length === 0) return undefined;
  return [round(median(present.map(([from]) => from)), 1), round(median(present.map(([, to]) => to)), 1)];
};

function figures(
  subject: ColdRequestSubject,
  network: NetworkName,
  runs: ColdRequestTimeline[],
  reference?: ColdRequestTimeline[],
): ColdRequestFigures {
  const totals = runs.map((run) => run.totalMs);
  const secretReads = medianSpan(runs.map((run) => run.secretReads));
  const downstreamConnection = medianSpan(runs.map((run) => run.downstreamConnection));
  const downstreamRequest = medianSpan(runs.map((run) => run.downstreamRequest));
  const ledgerRequests = medianSpan(runs.map((run) => run.ledgerRequests));
  return {
    subject: subject.name,
    network,
    downstream: subject.downstream,
    totalMs: spread(totals),
    ...(reference && {
      ratio: spread(
        pairedRatios(
          totals,
          reference.map((run) => run.totalMs),
        ),
      ),
    }),
    phases: {
      nodeReadyMs: round(median(runs.map((run) => run.nodeReadyMs)), 1),
      importedMs: round(median(runs.map((run) => run.importedMs)), 1),
      ...(secretReads && { secretReads }),
      ...(downstreamConnection && { downstreamConnection }),
      ...(downstreamRequest && { downstreamRequest }),
      ...(ledgerRequests && { ledgerRequests }),
    },
    connectedAtInit: runs.filter((run) => run.connectedAtInit).length,
    secretsConnectedAtInit: runs.filter((run) => run.secretsConnectedAtInit).length,
    ledgerCalls: median(runs.map((run) => run.ledgerCalls)),
    ledgerConnectedAtInit: runs.filter((run) => run.ledgerConnectedAtInit).length,
    runs,
  };
}

/** The reference first, then the handlers; every one over both networks, `runs` times each. */
export async function measureColdRequests(
  node: NodeRuntime,
  reference: ColdRequestSubject,
  handlers: ColdRequestSubject[],
  options: ColdRequestOptions,
): Promise<ColdRequestResult> {
  const network = await startColdRequestNetwork(options.roundTrips);
  try {
    const probe = await buildProbe('bench/cold-request-probe.ts', options.workDir);
    const subjects = [reference, ...handlers];
    const networks: NetworkName[] = ['tls', 'loopback'];
    const timelines = new Map(networks.map((name) => [name, subjects.map(() => [] as ColdRequestTimeline[])]));
    for (let round = 0; round < options.runs; round++) {
      for (const name of networks) {
        const order = subjects.map((_, index) => index);
        if (round % 2 === 1) order.reverse();
        for (const index of order) {
          const subject = subjects[index]!;
          const report = await runProbe(node, probe, subject, network.networks[name].env, options.workDir);
          timelines.get(name)![index]!.push(timeline(report, subject, network));
        }
      }
    }
    return {
      runs: options.runs,
      roundTripsMs: options.roundTrips,
      figures: networks.flatMap((name) => {
        const [referenceRuns, ...handlerRuns] = timelines.get(name)!;
        const handlerFigures = handlers.map((handler, index) =>
          figures(handler, name, handlerRuns[index]!, referenceRuns),
        );
        return [figures(reference, name, referenceRuns!), ...handlerFigures];
      }),
    };
  } finally {
    await network.close();
  }
}
