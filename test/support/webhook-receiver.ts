import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw bytes, as signed. */
  body: Buffer;
  answeredWith: number;
  /** Epoch milliseconds when the request had arrived whole. */
  receivedAt: number;
}

/** A status alone, or with response headers (e.g. `Retry-After`). */
export type ScriptedAnswer = number | { status: number; headers: Record<string, string> };

/** A real webhook receiver on 127.0.0.1: answers each path with scripted statuses, then 200, and keeps every request. */
export interface WebhookReceiver {
  url(path: string): string;
  /** The next requests to `path` get these answers in order; later ones get 200. */
  answer(path: string, answers: ScriptedAnswer[]): void;
  received(path: string): ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const scripts = new Map<string, ScriptedAnswer[]>();
  const requests: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const scripted = scripts.get(path)?.shift() ?? 200;
      const { status, headers } = typeof scripted === 'number' ? { status: scripted, headers: {} } : scripted;
      requests.push({ path, headers: req.headers, body: Buffer.concat(chunks), answeredWith: status, receivedAt: Date.now() });
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(`answered ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path) => base + path,
    answer: (path, answers) => void scripts.set(path, [...answers]),
    received: (path) => requests.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
