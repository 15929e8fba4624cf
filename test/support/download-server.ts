import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type Logger } from '../../logging/logger.js';

/** A server on 127.0.0.1 standing in for the public download hosts: no test leaves the machine. */
export interface DownloadServer {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** Every path asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Starts a server whose answers `answer` gives per request path (decoded, without the query). */
export async function startDownloadServer(answer: (requestPath: string, response: ServerResponse) => void | Promise<void>): Promise<DownloadServer> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const requestPath = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname);
    requests.push(requestPath);
    void Promise.resolve(answer(requestPath, response)).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A logger whose lines the test reads back (their `msg`s). */
export function collectingLogger(): { logger: Logger; messages: () => string[] } {
  const lines: string[] = [];
  const logger = createLogger('info', 'test', { write: (line: string) => void lines.push(line) });
  return { logger, messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg) };
}
