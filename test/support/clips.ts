import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ffmpegPath, runTool } from '../../media/video/ffmpeg.js';
import { fixturesDir } from './paths.js';

/** A fixture clip and what its manifest says of it. */
export interface FixtureClip {
  name: string;
  file: string;
  bytes: number;
  width: number;
  height: number;
  fps: number;
  durationS: number;
}

interface ManifestItem {
  kind: string;
  file: string;
  bytes: number;
  shows: string;
}

/** `768x576, 10 fps, 79.5 s` (the animated GIF says `480x270 animated GIF, 15 fps, 4.7 s`). */
const shape = /(\d+)x(\d+)[^,]*, ([\d.]+) fps, ([\d.]+) s/;

/** Every clip in the fixtures' manifest; the multi-shot clip's figures come from its own description. */
export function fixtureClips(): FixtureClip[] {
  const manifest = JSON.parse(readFileSync(path.join(fixturesDir, 'manifest.json'), 'utf8')) as { items: ManifestItem[] };
  return manifest.items
    .filter((item) => item.kind === 'clip')
    .map((item) => {
      const file = path.join(fixturesDir, item.file);
      const name = path.basename(item.file);
      const match = shape.exec(item.shows);
      if (match) {
        const [, width, height, fps, durationS] = match.map(Number) as [number, number, number, number, number];
        return { name, file, bytes: item.bytes, width, height, fps, durationS };
      }
      const described = JSON.parse(readFileSync(file.replace(/\.mp4$/, '.json'), 'utf8')) as {
        video: { width: number; height: number; fps: number; duration_s: number };
      };
      return { name, file, bytes: item.bytes, width: described.video.width, height: described.video.height, fps: described.video.fps, durationS: described.video.duration_s };
    });
}

/** A fixture clip by file name. */
export function fixtureClip(name: string): FixtureClip {
  const clip = fixtureClips().find((candidate) => candidate.name === name);
  if (!clip) throw new Error(`no fixture clip ${name}`);
  return clip;
}

/** One still shown for `seconds`. */
export interface Shot {
  file: string;
  seconds: number;
}

/**
 * Writes an H.264 MP4 of 1280×720 at 10 fps showing the stills one after the other, each letterboxed, with hard
 * cuts between them (one scene per still): people and text the fixtures label, in a video.
 */
export async function slideshowClip(shots: readonly Shot[], out: string): Promise<void> {
  const inputs = shots.flatMap((shot) => ['-loop', '1', '-framerate', '10', '-t', String(shot.seconds), '-i', shot.file]);
  const scaled = shots.map((_, i) => `[${i}:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p[v${i}]`);
  const filter = `${scaled.join(';')};${shots.map((_, i) => `[v${i}]`).join('')}concat=n=${shots.length}:v=1:a=0[out]`;
  await runTool(ffmpegPath, ['-v', 'error', '-y', ...inputs, '-filter_complex', filter, '-map', '[out]', '-r', '10', '-c:v', 'libx264', '-g', '10', out]);
}

/** Four shots: a man, Lisa (the face fixture whose photos an allowlist can hold), a traffic camera's timestamped picture, a woman. */
export function peopleAndTextShots(): Shot[] {
  const faces = (relative: string) => path.join(fixturesDir, 'faces', relative);
  return [
    { file: faces('asl_m1/asl_again_t0.50.jpg'), seconds: 3 },
    { file: faces('lisa/webmorph_lisa2.jpg'), seconds: 3 },
    { file: path.join(fixturesDir, 'text', 'otl_hannover_K50_day_timestamp.jpg'), seconds: 3 },
    { file: faces('asl_f1/asl_book_t1.00.jpg'), seconds: 3 },
  ];
}
