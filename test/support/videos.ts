import { readFile } from 'node:fs/promises';
import type { VideoDocument } from '../../activities/video-document.js';
import { waitFor } from './wait.js';

export interface VideoAnswer<T = VideoDocument> {
  status: number;
  headers: Headers;
  /** Spec 2's bare body: the document, or `{error}`. */
  body: T & { error?: { code: string; message: string; field?: string } };
}

async function answerOf<T>(response: Response): Promise<VideoAnswer<T>> {
  const text = await response.text();
  try {
    return { status: response.status, headers: response.headers, body: JSON.parse(text) as VideoAnswer<T>['body'] };
  } catch {
    throw new Error(`answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
}

/** POST /api/v1/videos with the video as the raw body. */
export async function postVideo(
  baseUrl: string,
  token: string | undefined,
  body: Uint8Array | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
): Promise<VideoAnswer<{ job_id: string }>> {
  const response = await fetch(`${baseUrl}/api/v1/videos`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'video/mp4', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  return answerOf(response);
}

/** POST /api/v1/videos as a multipart form. */
export async function postVideoForm(baseUrl: string, token: string, form: FormData, headers: Record<string, string> = {}): Promise<VideoAnswer<{ job_id: string }>> {
  const response = await fetch(`${baseUrl}/api/v1/videos`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}`, ...headers } });
  return answerOf(response);
}

export async function getVideo(baseUrl: string, token: string, jobId: string): Promise<VideoAnswer> {
  return answerOf(await fetch(`${baseUrl}/api/v1/videos/${jobId}`, { headers: { authorization: `Bearer ${token}` } }));
}

export async function waitForVideo(baseUrl: string, token: string, jobId: string, timeoutMs = 180_000): Promise<VideoDocument> {
  return waitFor(
    `video job ${jobId} to end`,
    async () => {
      const { body } = await getVideo(baseUrl, token, jobId);
      return ['finished', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
    },
    timeoutMs,
    250,
  );
}

export const readClip = (file: string) => readFile(file);
