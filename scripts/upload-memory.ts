/**
 * The API's resident memory while a large video is uploaded to it: 1 GiB (`--bytes`) of a valid MPEG-TS
 * video (a fixture clip repeated, which MPEG-TS allows) streamed to POST /api/v1/videos of an API running as
 * its own process, its RSS read from /proc every 50 ms. Prints the RSS before, the peak during, the growth,
 * and the throughput. Run: npm run bench:upload-memory [-- --bytes 1073741824]
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ffmpegPath, runTool } from '../media/video/ffmpeg.js';
import { startProcessStack } from '../test/support/process-stack.js';
import { fixturesDir } from '../test/support/paths.js';

const { values } = parseArgs({ options: { bytes: { type: 'string', default: String(1024 ** 3) } } });
const uploadBytes = Number(values.bytes);
const mib = (bytes: number) => (bytes / 1024 ** 2).toFixed(1);

/** The stack's API process: our child running api/main.ts. */
async function apiPid(): Promise<number> {
  for (const entry of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (cmdline.includes('api/main.ts') && parent === process.pid) return Number(entry);
  }
  throw new Error('the API process was not found');
}

async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

const stack = await startProcessStack({ env: { MAX_VIDEO_BYTES: String(uploadBytes + 1), MAX_VIDEO_SECONDS: '10000000' } });
try {
  const token = await stack.createToken('memory');
  const pid = await apiPid();
  const clip = path.join(fixturesDir, 'clips/multishot_cuts.mp4');
  const segment = await runTool(ffmpegPath, ['-v', 'error', '-i', clip, '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'mpegts', '-']);

  // A first small upload, so what the first request loads (modules, pools) is not counted as the upload's.
  await fetch(`${stack.baseUrl}/api/v1/videos`, { method: 'POST', body: segment, headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp2t' } });
  const before = await rssBytes(pid);

  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= uploadBytes) return controller.close();
      const part = segment.subarray(0, Math.min(segment.length, uploadBytes - sent));
      sent += part.length;
      controller.enqueue(part);
    },
  });
  let peak = before;
  const sampler = setInterval(() => void rssBytes(pid).then((rss) => (peak = Math.max(peak, rss)), () => undefined), 50);
  const started = performance.now();
  const response = await fetch(`${stack.baseUrl}/api/v1/videos`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp2t' },
    duplex: 'half',
  } as RequestInit);
  const answer = await response.text();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, await rssBytes(pid));

  console.log(`upload: ${mib(sent)} MiB of MPEG-TS in ${seconds.toFixed(1)} s (${mib(sent / seconds)} MiB/s), answered ${response.status} ${answer.slice(0, 120)}`);
  console.log(`API RSS before: ${mib(before)} MiB, peak during: ${mib(peak)} MiB, growth: ${mib(peak - before)} MiB (target < 100 MiB)`);
} finally {
  await stack.stop();
}
