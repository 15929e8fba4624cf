import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ffmpegPath, runTool } from '../../media/video/ffmpeg.js';
import type { AlarmFile } from './alarms.js';

/** `seconds` of a fixture clip from `startS`, at `fps`, re-encoded as MPEG-4 in an MP4 (a clip as a camera sends it). */
export async function clipExcerpt(file: string, startS: number, seconds: number, fps: number): Promise<AlarmFile> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-clip-'));
  try {
    const out = path.join(dir, 'clip.mp4');
    await runTool(ffmpegPath, ['-v', 'error', '-nostdin', '-ss', String(startS), '-i', file, '-t', String(seconds), '-an', '-vf', `fps=${fps}`, '-c:v', 'mpeg4', '-q:v', '4', out]);
    return { name: `${path.basename(file, path.extname(file))}_${startS}s.mp4`, bytes: await readFile(out), type: 'video/mp4' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function classifyForm(fields: Record<string, string | undefined>, files: { field: string; file: AlarmFile }[]): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) form.append(key, value);
  for (const { field, file } of files) form.append(field, new Blob([file.bytes], { type: file.type ?? 'application/octet-stream' }), file.name);
  return form;
}

/** POST /api/classify; its answers are bare documents (errors keep the API's envelope). */
export async function postClassify(baseUrl: string, token: string | undefined, form: FormData, query = '') {
  const response = await fetch(`${baseUrl}/api/classify${query}`, { method: 'POST', body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> & { error?: { code: string; field?: string } } };
}

export async function getResult(baseUrl: string, token: string, id: string) {
  const response = await fetch(`${baseUrl}/api/result/${id}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
