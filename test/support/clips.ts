import { readFileSync } from 'node:fs';
import path from 'node:path';
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
