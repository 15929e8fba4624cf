import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, copyFile, mkdir, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import ffprobeInstaller from '@ffprobe-installer/ffprobe';

/** The bundled ffmpeg (a 2018 static build: no `scdet` filter) and ffprobe (2023). */
export const ffmpegPath: string = ffmpegInstaller.path;

let ffprobeReady: Promise<string> | undefined;

/**
 * The bundled ffprobe, runnable by this user. Its package ships it with mode 0744, so a user other than the
 * installer's gets a copy with mode 0755 in a cache folder, made once per version.
 */
export function ffprobePath(): Promise<string> {
  ffprobeReady ??= runnableCopyOf(ffprobeInstaller.path, `ffprobe-${String(ffprobeInstaller.version)}`).catch((error: unknown) => {
    ffprobeReady = undefined;
    throw error;
  });
  return ffprobeReady;
}

/** `binary` itself when this user may run it, else a copy with mode 0755 in a per-user cache folder. */
export async function runnableCopyOf(binary: string, name: string): Promise<string> {
  if (await isExecutable(binary)) return binary;
  const folder = path.join(os.tmpdir(), `vigil-tools-${os.userInfo().uid}`);
  const copy = path.join(folder, name);
  if (await isExecutable(copy)) return copy;
  await mkdir(folder, { recursive: true, mode: 0o700 });
  // Copy beside, then rename: two processes starting together never run a half-copied binary.
  const temporary = `${copy}.${randomUUID()}.tmp`;
  await copyFile(binary, temporary);
  await chmod(temporary, 0o755);
  await rename(temporary, copy);
  return copy;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export class ToolFailedError extends Error {
  constructor(
    readonly tool: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${tool} exited with ${exitCode ?? 'a signal'}: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no message'}`);
  }
}

/** Runs a tool to completion and answers its stdout; a non-zero exit throws with the end of its stderr. */
export function runTool(binary: string, args: string[], options: { maxStdoutBytes?: number } = {}): Promise<Buffer> {
  const maxStdout = options.maxStdoutBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = '';
    let overflow = false;
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxStdout) {
        overflow = true;
        child.kill('SIGKILL');
        return;
      }
      out.push(chunk);
    });
    // Keep only the tail: tools can be verbose about damaged input.
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8192)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (overflow) reject(new Error(`${path.basename(binary)} wrote more than ${maxStdout} bytes`));
      else if (code === 0) resolve(Buffer.concat(out));
      else reject(new ToolFailedError(path.basename(binary), code, stderr));
    });
  });
}
