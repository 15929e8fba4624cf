/**
 * A test double of an OpenAI-compatible vision LLM server: it speaks the chat-completions protocol over
 * real HTTP on 127.0.0.1, records every request, and answers each model from a script. It stands in for
 * a model that cannot run here.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequestBody {
  model: string;
  messages: { role: string; content: string | ({ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } })[] }[];
  response_format?: { type: string; json_schema?: { name: string; strict?: boolean; schema: Record<string, unknown> } };
  [key: string]: unknown;
}

export interface RecordedLlmRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: ChatRequestBody;
}

export interface DoubleVerdict {
  decision: 'No' | 'Maybe' | 'Yes';
  confidence: number;
  description: string;
  indicators: string[];
}

export type LlmReply =
  /** A chat completion whose content is this verdict as JSON; `model` overrides the echoed model name. */
  | { verdict: DoubleVerdict; model?: string }
  /** A chat completion with this content as it stands (invalid JSON, a wrong shape). */
  | { content: string }
  /** A 200 whose body is this text, not a chat completion (a base URL that points at a web page). */
  | { page: string }
  /** An HTTP error with a JSON error body. */
  | { status: number; message?: string }
  /** Never answers: the client has to give up. */
  | { hang: true }
  /** Closes the connection without answering, as a server that went away. */
  | { drop: true };

export interface LlmDouble {
  /** What LLM_BASE_URL should be. */
  baseUrl: string;
  /** Replies for one model, in order; the last one repeats once the script runs out. */
  script(model: string, ...replies: LlmReply[]): void;
  requestsFor(model: string): RecordedLlmRequest[];
  /** Forgets every script and recorded request. */
  reset(): void;
  stop(): Promise<void>;
}

export async function startLlmDouble(): Promise<LlmDouble> {
  const scripts = new Map<string, LlmReply[]>();
  const requests: RecordedLlmRequest[] = [];
  let completions = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      };
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        reply(404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
        return;
      }
      let body: ChatRequestBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequestBody;
      } catch {
        reply(400, { error: { message: 'body is not JSON', type: 'invalid_request_error' } });
        return;
      }
      requests.push({ path: req.url, headers: req.headers, body });
      const script = scripts.get(body.model) ?? [];
      const next = script.length > 1 ? script.shift() : script[0];
      if (!next) {
        reply(404, { error: { message: `model ${body.model} not found`, type: 'invalid_request_error' } });
      } else if ('hang' in next) {
        // Left open; stop() closes it.
      } else if ('drop' in next) {
        req.socket.destroy();
      } else if ('page' in next) {
        res.writeHead(200, { 'content-type': 'text/html' }).end(next.page);
      } else if ('status' in next) {
        reply(next.status, { error: { message: next.message ?? `double says ${next.status}`, type: 'server_error' } });
      } else {
        completions += 1;
        const content = 'verdict' in next ? JSON.stringify(next.verdict) : next.content;
        reply(200, {
          id: `chatcmpl-double-${completions}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: ('verdict' in next && next.model) || body.model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1000, completion_tokens: 60, total_tokens: 1060 },
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    script(model, ...replies) {
      scripts.set(model, replies);
    },
    requestsFor(model) {
      return requests.filter((request) => request.body.model === model);
    },
    reset() {
      scripts.clear();
      requests.length = 0;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
