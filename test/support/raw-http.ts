import net from 'node:net';
import type { ApiResponse } from './alarms.js';

/** Bytes as they are, or one chunk sent `times` times over (a large body that is never held whole in memory). */
export type BodySegment = Uint8Array | { repeat: Uint8Array; times: number };

export interface RawRequest {
  method: string;
  /** Sent as written: percent-encode what the path should carry encoded. */
  path: string;
  /** Written byte for byte (latin1), control characters included, which fetch refuses to send. */
  headers?: Record<string, string>;
  body?: BodySegment[];
  /** Bytes at the end of the body that are never sent: the request stays unfinished until the server answers or closes. */
  holdBack?: number;
  /** Stops sending after this many bytes of the body. */
  sendOnly?: number;
  /** Never sends the blank line that ends the headers (nor any body): a request whose headers never finish. */
  unfinishedHeaders?: boolean;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** The envelope; undefined when the answer is not JSON. */
  body: ApiResponse['body'] | undefined;
}

export interface RawExchange {
  /** The server's answer; rejects when the connection ends without one. */
  response: Promise<RawResponse>;
  /** Body bytes written to the socket so far. */
  bytesSent(): number;
  /** Resolves when the client has written all it is going to (everything but `holdBack`), or stopped because the server answered or closed. */
  written: Promise<void>;
  /** Hangs up at once, as a client that goes away mid-upload. */
  abort(): void;
}

export function bodyLength(body: BodySegment[]): number {
  return body.reduce((total, segment) => total + ('repeat' in segment ? segment.repeat.length * segment.times : segment.length), 0);
}

/** One HTTP/1.1 request over its own connection, written by hand and with backpressure, for what fetch cannot send. */
export function sendRaw(baseUrl: string, request: RawRequest): RawExchange {
  const { hostname, port } = new URL(baseUrl);
  const body = request.body ?? [];
  const length = bodyLength(body);
  const toSend = Math.min(length - (request.holdBack ?? 0), request.sendOnly ?? Infinity);
  const headers = { Host: `${hostname}:${port}`, Connection: 'close', 'Content-Length': String(length), ...request.headers };
  const headerLines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  const head = `${request.method} ${request.path} HTTP/1.1\r\n${headerLines}${request.unfinishedHeaders ? '' : '\r\n'}`;

  const socket = net.connect(Number(port), hostname);
  let received = Buffer.alloc(0);
  let sent = 0;
  let finished = false;
  const response = new Promise<RawResponse>((resolve, reject) => {
    const settle = (closed = false) => {
      const parsed = parseResponse(received, closed);
      if (parsed) {
        finished = true;
        resolve(parsed);
        socket.destroy();
      }
      return parsed;
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      settle();
    });
    // A server that answers early and closes may reset the connection while the client still writes.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      finished = true;
      if (!settle(true)) reject(new Error(`the connection closed without an answer, after ${sent} body bytes were sent`));
    });
  });
  response.catch(() => undefined);

  const written = (async () => {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.write(Buffer.from(head, 'latin1'));
    if (request.unfinishedHeaders) return;
    for (const segment of body) {
      const { chunk, times } = 'repeat' in segment ? { chunk: segment.repeat, times: segment.times } : { chunk: segment, times: 1 };
      for (let index = 0; index < times && !finished && sent < toSend; index++) {
        const part = chunk.subarray(0, toSend - sent);
        sent += part.length;
        if (!socket.write(part)) {
          await new Promise<void>((resolve) => {
            socket.once('drain', resolve);
            socket.once('close', resolve);
          });
        }
      }
    }
  })();
  written.catch(() => undefined);

  return {
    response,
    written,
    bytesSent: () => sent,
    abort: () => socket.destroy(),
  };
}

/** A complete response in `bytes`, or undefined while more is to come (a response without Content-Length ends with the connection). */
function parseResponse(bytes: Buffer, closed: boolean): RawResponse | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine, ...headerLines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  const content = bytes.subarray(headEnd + 4);
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (length === undefined ? !closed : content.length < length) return undefined;
  const text = content.subarray(0, length).toString('utf8');
  let body: RawResponse['body'];
  try {
    body = JSON.parse(text) as RawResponse['body'];
  } catch {
    body = undefined;
  }
  return { status: Number(statusLine!.split(' ')[1]), headers, body };
}
