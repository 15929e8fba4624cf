import http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createApp, type ApiDeps } from './app.js';
import { ApiError, errorBody, validationError } from './errors.js';

/** How often Node checks its request deadlines; its default, 30 s, would let a request run that much past them. */
const deadlineCheckIntervalMs = 1000;
/** How long a connection closed after its answer keeps reading, and dropping, what the client still sends. */
const lingerMs = 2000;

/**
 * The API's HTTP server: the Koa app, with deadlines for a request to arrive (its headers, then the whole
 * request with its body), and answers in the envelope to what Node refuses before the app sees a request.
 */
export function createApiServer(deps: ApiDeps): http.Server {
  const { headersTimeoutSeconds, requestTimeoutSeconds } = deps.config.api;
  const server = http.createServer(
    {
      headersTimeout: headersTimeoutSeconds * 1000,
      requestTimeout: requestTimeoutSeconds * 1000,
      connectionsCheckingInterval: deadlineCheckIntervalMs,
    },
    createApp(deps).callback(),
  );
  server.on('clientError', answerClientError);
  server.on('connection', lingerOnClose);
  return server;
}

/**
 * Closing a connection while the client's body is still arriving makes the kernel reset it, and the reset can
 * discard an early answer (401, 413, 503) before the client reads it. So, like a lingering close in nginx, the
 * connection Node closes after an answer is half-closed instead, and what still arrives is read and dropped until
 * the client closes its side, for at most `lingerMs`.
 */
function lingerOnClose(socket: Socket): void {
  // Node's HTTP server closes a connection after its last answer through this (undocumented) method.
  (socket as Socket & { destroySoon: () => void }).destroySoon = () => {
    const deadline = setTimeout(() => socket.destroy(), lingerMs).unref();
    socket.once('close', () => clearTimeout(deadline));
    socket.once('end', () => socket.destroy());
    socket.end();
    socket.resume();
  };
}

/** What Node reports to 'clientError': a parse error carries the bytes it was parsing and where it stopped. */
type ClientError = Error & { code?: string; reason?: string; rawPacket?: Buffer; bytesParsed?: number };

function answerClientError(error: ClientError, socket: Duplex): void {
  // As Node's own answer: none where the client is gone or an answer to the request has begun.
  const inFlight = (socket as { _httpMessage?: { headersSent: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const failure = clientErrorAnswer(error);
  const body = JSON.stringify(errorBody(failure));
  const head = [
    `HTTP/1.1 ${failure.status} ${http.STATUS_CODES[failure.status]}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}

/** The answer to a request Node refused: too slow to arrive, headers too large, or not HTTP it can parse. */
export function clientErrorAnswer(error: ClientError): ApiError {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError(408, 'REQUEST_TIMEOUT', 'The request did not arrive in time.');
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(431, 'VALIDATION_ERROR', 'The request headers are too large.', { field: 'headers' });
    case 'HPE_INVALID_HEADER_TOKEN': {
      const header = headerBeingParsed(error) ?? 'headers';
      return validationError(header, `${header} must not contain control characters.`);
    }
    default:
      return validationError('request', `The request is not valid HTTP/1.1${error.reason ? `: ${error.reason}` : ''}.`);
  }
}

/** The name of the header whose value Node was parsing when it stopped, when the bytes it had show it. */
function headerBeingParsed({ rawPacket, bytesParsed }: ClientError): string | undefined {
  if (!rawPacket || bytesParsed === undefined) return undefined;
  const parsed = rawPacket.subarray(0, bytesParsed).toString('latin1');
  const line = parsed.slice(parsed.lastIndexOf('\n') + 1);
  const colon = line.indexOf(':');
  return colon > 0 ? line.slice(0, colon).trim() : undefined;
}
