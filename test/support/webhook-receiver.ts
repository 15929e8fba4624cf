import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw bytes, as signed. */
  body: Buffer;
  answeredWith: number;
}

/** A real webhook receiver on 127.0.0.1: answers each path with scripted statuses, then 200, and keeps every request. */
export interface WebhookReceiver {
  url(path: string): string;
  /** The next requests to `path` get these statuses in order; later ones get 200. */
  answer(path: string, statuses: number[]): void;
  received(path: string): ReceivedWebhook[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const scripts = new Map<string, number[]>();
  const requests: ReceivedWebhook[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      const status = scripts.get(path)?.shift() ?? 200;
      requests.push({ path, headers: req.headers, body: Buffer.concat(chunks), answeredWith: status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`answered ${status}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (path) => base + path,
    answer: (path, statuses) => void scripts.set(path, [...statuses]),
    received: (path) => requests.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
