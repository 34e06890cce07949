/**
 * The transport under this function's axios instance: one request over node:http or node:https
 * with keep-alive agents, the body sent as one buffer, the answer read whole.
 *
 * axios's own Node adapter serves every use of axios: redirects, proxies, decompression and
 * progress streams, sockets, multipart. For a small JSON API it is garbage per request, and that
 * garbage makes V8 grow the young generation and compile more. Started as Lambda starts a 256 MB
 * function, a process making 10,000 warm DELETEs peaked at ~130 MiB of RSS through plain axios and
 * at ~96 MiB through this adapter (measured with npm run bench's memory probe).
 * axios still does everything above the wire: config merging, headers, JSON on both sides,
 * `validateStatus`, `timeout`, `maxContentLength`, `maxBodyLength` and its error codes, which this
 * adapter keeps.
 *
 * What it leaves out, on purpose: `baseURL` (pass an absolute URL), compression (no
 * Accept-Encoding is sent, so servers answer uncompressed), proxies and redirects (a 3xx is
 * returned as it is). Options that would change the request or the answer's type and that it
 * cannot honour (`params`, `auth`, a binary `responseType`, cancellation) are refused with
 * ERR_BAD_OPTION rather than dropped without a word.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  AxiosError,
  AxiosHeaders,
  type AxiosAdapter,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import { WarmAgent } from './warm-connection';

/** A non-2xx answer that `validateStatus` refuses becomes the error axios's adapters raise. */
function settle(config: InternalAxiosRequestConfig, request: ClientRequest, response: AxiosResponse): AxiosResponse {
  const { status } = response;
  if (!config.validateStatus || config.validateStatus(status)) return response;
  const code = status >= 500 ? AxiosError.ERR_BAD_RESPONSE : AxiosError.ERR_BAD_REQUEST;
  throw new AxiosError(`Request failed with status code ${status}`, code, config, request, response);
}

/** The requested URL, or an axios ERR_INVALID_URL for anything but an absolute http(s) URL. */
function targetUrl(config: InternalAxiosRequestConfig): URL {
  const url = URL.canParse(config.url ?? '') ? new URL(config.url!) : undefined;
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new AxiosError('This adapter takes absolute http(s) URLs only', AxiosError.ERR_INVALID_URL, config);
  }
  return url;
}

/** axios's size limits: -1 (its default) or unset means none. */
const byteLimit = (limit: number | undefined) => (limit !== undefined && limit > -1 ? limit : Infinity);

function refuseUnsupported(config: InternalAxiosRequestConfig): void {
  const unsupported = [
    config.params !== undefined && 'params',
    config.auth !== undefined && 'auth',
    config.responseType !== undefined &&
      config.responseType !== 'json' &&
      config.responseType !== 'text' &&
      `responseType '${config.responseType}'`,
    (config.signal !== undefined || config.cancelToken !== undefined) && 'cancellation',
  ].filter(Boolean);
  if (unsupported.length > 0) {
    throw new AxiosError(`This adapter does not support ${unsupported.join(', ')}`, AxiosError.ERR_BAD_OPTION, config);
  }
}

/** Why a request through this adapter has no answer to judge: what its callers tell apart. */
export type TransportFailure = { kind: 'timeout' } | { kind: 'too_large' } | { kind: 'unreachable'; code: string };

/** The failure an AxiosError from this adapter stands for (axios's codes, and its wording for maxContentLength). */
export function transportFailureOf(error: unknown): TransportFailure {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === AxiosError.ECONNABORTED || code === AxiosError.ETIMEDOUT) return { kind: 'timeout' };
  if (code === AxiosError.ERR_BAD_RESPONSE && typeof message === 'string' && message.startsWith('maxContentLength'))
    return { kind: 'too_large' };
  return { kind: 'unreachable', code: typeof code === 'string' ? code : 'network error' };
}

export function createNodeHttpAdapter(): AxiosAdapter {
  // One pool per container: warm invocations reuse the TLS connection instead of a handshake each,
  // and the first one takes the connection opened at init (lib/http/warm-connection.ts).
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new WarmAgent({ keepAlive: true }) };

  return (config) =>
    new Promise((resolve, reject) => {
      refuseUnsupported(config);
      const url = targetUrl(config);
      const body =
        config.data === undefined || config.data === null ? undefined : Buffer.from(config.data as string | Buffer);
      if (body && body.length > byteLimit(config.maxBodyLength)) {
        throw new AxiosError('Request body larger than maxBodyLength limit', AxiosError.ERR_BAD_REQUEST, config);
      }
      const headers = AxiosHeaders.from(config.headers).toJSON() as Record<string, string>;
      if (body) headers['Content-Length'] = String(body.length);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const agent = url.protocol === 'https:' ? agents.https : agents.http;
      const method = (config.method ?? 'get').toUpperCase();
      const maxBytes = byteLimit(config.maxContentLength);

      let timer: NodeJS.Timeout | undefined;
      /** Set once the answer has ended while the request is still being written. */
      let answerWithoutRest: (() => void) | undefined;
      const fail = (error: AxiosError) => {
        // The answer is whole: what becomes of the request's unsent rest no longer matters.
        if (answerWithoutRest) return answerWithoutRest();
        clearTimeout(timer);
        request.destroy();
        reject(error);
      };
      const request = send(url, { method, headers, agent }, (message: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        message.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > maxBytes) {
            fail(
              new AxiosError(
                `maxContentLength size of ${maxBytes} exceeded`,
                AxiosError.ERR_BAD_RESPONSE,
                config,
                request,
              ),
            );
          } else {
            chunks.push(chunk);
          }
        });
        message.on('error', (error) => fail(AxiosError.from(error, AxiosError.ERR_BAD_RESPONSE, config, request)));
        message.on('end', () => {
          const response: AxiosResponse = {
            data: Buffer.concat(chunks).toString('utf8'),
            status: message.statusCode ?? 0,
            statusText: message.statusMessage ?? '',
            headers: new AxiosHeaders(message.headers as Record<string, string>),
            config,
            request,
          };
          let answered = false;
          const answer = () => {
            if (answered) return;
            answered = true;
            clearTimeout(timer);
            try {
              resolve(settle(config, request, response));
            } catch (error) {
              reject(error as AxiosError);
            }
          };
          if (request.writableFinished) return answer();
          // An answer can end before the request is written whole (a server answering early, or
          // a write callback still queued). Node returns the keep-alive socket to the pool only
          // once it is, and a next request sent before then would open a connection of its own:
          // so the answer waits for that, or for the connection's end, an error or the deadline.
          answerWithoutRest = () => {
            request.destroy();
            answer();
          };
          request.once('finish', answer).once('close', answer);
        });
      });
      request.on('error', (error: NodeJS.ErrnoException) => fail(AxiosError.from(error, error.code, config, request)));
      // A deadline for the whole exchange, as axios's `timeout` means; the retry budget relies on it.
      if (config.timeout) {
        timer = setTimeout(() => {
          const code = config.transitional?.clarifyTimeoutError ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED;
          fail(
            new AxiosError(
              config.timeoutErrorMessage ?? `timeout of ${config.timeout}ms exceeded`,
              code,
              config,
              request,
            ),
          );
        }, config.timeout);
      }
      request.end(body);
    });
}
