import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MediaStore } from '../store.js';
import { ffmpegPath, runTool } from './ffmpeg.js';

/** Whether browsers play the video as stored: H.264 in an MP4 container. */
export function playableInBrowsers(video: { container: string; codec: string }): boolean {
  return video.codec === 'h264' && video.container.split(',').includes('mp4');
}

const inFlight = new Map<string, Promise<void>>();

/**
 * Makes sure `targetKey` holds the video at `sourceKey` as H.264/MP4 (yuv420p, moov first, no audio), which
 * every browser plays and can seek by range: transcoded on the first request, then kept in the store.
 * Concurrent requests in this process share one transcode.
 */
export async function ensureBrowserCopy(media: MediaStore, sourceKey: string, targetKey: string): Promise<void> {
  if (await media.stat(targetKey)) return;
  let running = inFlight.get(targetKey);
  if (!running) {
    running = transcode(media, sourceKey, targetKey).finally(() => inFlight.delete(targetKey));
    inFlight.set(targetKey, running);
  }
  await running;
}

async function transcode(media: MediaStore, sourceKey: string, targetKey: string): Promise<void> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'vigil-transcode-'));
  try {
    const output = path.join(folder, 'browser.mp4');
    await media.withLocalFile(sourceKey, (input) =>
      runTool(ffmpegPath, [
        '-v', 'error', '-nostdin', '-i', input,
        '-map', '0:v:0', '-an', '-sn',
        '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26', '-pix_fmt', 'yuv420p',
        // Even sides, as yuv420p needs.
        '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2',
        '-movflags', '+faststart', output,
      ]),
    );
    await media.putStream(targetKey, createReadStream(output));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
