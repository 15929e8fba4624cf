/**
 * Which of a video's sampled frames faces and text are looked for in. Reading every sampled frame would
 * cost more than detection itself, so:
 * - faces: frames with a person box tall enough to hold a face the face detector finds, at most one frame
 *   per `faceIntervalS` (the person boxes of that frame are where faces are looked for, the largest first);
 * - text: each scene's first frame (its keyframe), frames where activity starts (something new entered
 *   the picture: a vehicle with a plate, a sign carried in), and one frame every `textIntervalS` so text
 *   that stays on screen (an overlay, a sign) is seen again and its time segment grows; never two text
 *   frames closer than `minTextGapS`, keyframes aside.
 * Pure.
 */
import type { Box, Detection } from '../types.js';

export interface CandidateFrame {
  timestampS: number;
  /** In the video's pixels. */
  detections: readonly Pick<Detection, 'category' | 'box'>[];
}

export interface SceneSpan {
  start_seconds: number;
  end_seconds: number;
}

export interface ActivityAt {
  timestampS: number;
  value: number;
}

export interface FacesTextFrame {
  timestampS: number;
  /** Where faces are looked for; empty: no faces in this frame. */
  personBoxes: Box[];
  readText: boolean;
}

export interface FacesTextFrameOptions {
  /** Person boxes shorter than this (video pixels) hold faces too small to find or describe. */
  minPersonHeight: number;
  /** Largest person boxes of a frame faces are looked for in. */
  maxPeoplePerFrame: number;
  faceIntervalS: number;
  textIntervalS: number;
  minTextGapS: number;
  /** Activity (0–1) from which a frame counts as active; a frame crossing it from below starts activity. */
  activityOnset: number;
}

/**
 * Seconds between periodic text frames: also how long a reading is taken to stand for when merged over
 * frames (domain/text/merge.ts `frameInterval`).
 */
export const TEXT_INTERVAL_S = 10;

export const defaultFacesTextFrameOptions: FacesTextFrameOptions = {
  // A face is about an eighth of a standing person's height; YuNet finds faces from about 10 px.
  minPersonHeight: 80,
  maxPeoplePerFrame: 6,
  faceIntervalS: 1,
  textIntervalS: TEXT_INTERVAL_S,
  minTextGapS: 2,
  activityOnset: 0.02,
};

export function facesTextFrames(
  frames: readonly CandidateFrame[],
  scenes: readonly SceneSpan[],
  activity: readonly ActivityAt[],
  options: FacesTextFrameOptions = defaultFacesTextFrameOptions,
): FacesTextFrame[] {
  const sorted = [...frames].sort((a, b) => a.timestampS - b.timestampS);
  const keyframes = new Set<number>();
  for (const scene of scenes) {
    const first = sorted.find((frame) => frame.timestampS + 1e-6 >= scene.start_seconds && frame.timestampS < scene.end_seconds);
    if (first) keyframes.add(first.timestampS);
  }
  const onsets = new Set<number>();
  const byTime = [...activity].sort((a, b) => a.timestampS - b.timestampS);
  byTime.forEach((sample, i) => {
    if (i > 0 && sample.value >= options.activityOnset && byTime[i - 1]!.value < options.activityOnset) onsets.add(round3(sample.timestampS));
  });

  const chosen: FacesTextFrame[] = [];
  let lastFaceS = -Infinity;
  let lastTextS = -Infinity;
  for (const frame of sorted) {
    const personBoxes = frame.detections
      .filter((d) => d.category === 'person' && d.box[3] - d.box[1] >= options.minPersonHeight)
      .map((d) => d.box)
      .sort((a, b) => b[3] - b[1] - (a[3] - a[1]))
      .slice(0, options.maxPeoplePerFrame);
    const faces = personBoxes.length > 0 && frame.timestampS - lastFaceS + 1e-6 >= options.faceIntervalS;
    const sinceText = frame.timestampS - lastTextS + 1e-6;
    const text =
      keyframes.has(frame.timestampS) ||
      (sinceText >= options.minTextGapS && (onsets.has(round3(frame.timestampS)) || sinceText >= options.textIntervalS));
    if (faces) lastFaceS = frame.timestampS;
    if (text) lastTextS = frame.timestampS;
    if (faces || text) chosen.push({ timestampS: frame.timestampS, personBoxes: faces ? personBoxes : [], readText: text });
  }
  return chosen;
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
