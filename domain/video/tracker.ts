/**
 * Links detections across sampled frames into tracks, so each person, vehicle or animal is counted once
 * (SORT-style): every track predicts where its box is now from its last box and velocity; tracks and
 * detections of the same category are matched at least total cost (the Hungarian method), the cost being
 * 1 − IoU plus the distance between centres relative to the box's size; a pair too far apart or too
 * different in size is never matched. A track survives a few frames without a match (the detector missed
 * it, or something passed in front), moving on with its velocity, and counts only once it has been seen
 * in at least two frames, so a one-frame false detection makes no track.
 */
import { area, iou } from '../boxes.js';
import type { Box } from '../types.js';
import { minCostAssignment } from './assignment.js';

export interface TrackerDetection {
  category: string;
  box: Box;
  score: number;
}

export interface Sighting {
  timestampS: number;
  box: Box;
  score: number;
}

export interface Track {
  /** 1, 2, … in order of first appearance. */
  trackId: number;
  category: string;
  firstS: number;
  lastS: number;
  /** The sighting with the highest score (the largest box among equals): the object's best picture. */
  best: Sighting;
  /** Every frame in which a detection was matched to this track. */
  sightings: Sighting[];
}

export interface TrackerOptions {
  /** Frames in a row a track may go unmatched before it ends. Default 2. */
  maxMissed?: number;
  /** Frames a track must be seen in to count. Default 2. */
  minHits?: number;
  /** Largest distance between predicted and detected centres, in units of the box's larger side. Default 1. */
  maxCentreShift?: number;
}

/** Boxes whose areas differ by more than this factor are different objects. */
const MAX_AREA_RATIO = 3;
/** Weight of the newest velocity measurement against the running estimate (alpha-beta filter). */
const VELOCITY_GAIN = 0.5;
/** Stands in for an impossible pair in the assignment; such a pair is dropped afterwards. */
const UNMATCHABLE = 1e6;

interface LiveTrack {
  category: string;
  box: Box;
  /** Centre velocity in pixels per second; unknown until the second sighting. */
  velocity: [number, number] | undefined;
  missed: number;
  sightings: Sighting[];
}

const centre = ([x1, y1, x2, y2]: Box): [number, number] => [(x1 + x2) / 2, (y1 + y2) / 2];

function shifted([x1, y1, x2, y2]: Box, dx: number, dy: number): Box {
  return [x1 + dx, y1 + dy, x2 + dx, y2 + dy];
}

export class ObjectTracker {
  private readonly maxMissed: number;
  private readonly minHits: number;
  private readonly maxCentreShift: number;
  private live: LiveTrack[] = [];
  private readonly ended: LiveTrack[] = [];
  private lastS = -Infinity;

  constructor(opts: TrackerOptions = {}) {
    this.maxMissed = opts.maxMissed ?? 2;
    this.minHits = opts.minHits ?? 2;
    this.maxCentreShift = opts.maxCentreShift ?? 1;
  }

  /** One sampled frame's detections, frames in time order. */
  update(timestampS: number, detections: readonly TrackerDetection[]): void {
    if (!(timestampS > this.lastS)) throw new RangeError(`frames must come in time order: ${timestampS} s after ${this.lastS} s`);
    this.lastS = timestampS;
    const predicted = this.live.map((track) => this.predict(track, timestampS));
    const cost = predicted.map((box, t) => detections.map((detection) => this.cost(this.live[t]!, box, detection)));
    const assigned = minCostAssignment(cost.map((row) => row.map((c) => (Number.isFinite(c) ? c : UNMATCHABLE))));

    const matchedDetections = new Set<number>();
    const stillLive: LiveTrack[] = [];
    this.live.forEach((track, t) => {
      const d = assigned[t]!;
      if (d >= 0 && Number.isFinite(cost[t]![d]!)) {
        matchedDetections.add(d);
        this.observe(track, timestampS, detections[d]!);
        stillLive.push(track);
      } else if (++track.missed <= this.maxMissed) {
        stillLive.push(track);
      } else {
        this.ended.push(track);
      }
    });
    detections.forEach((detection, d) => {
      if (matchedDetections.has(d)) return;
      stillLive.push({
        category: detection.category,
        box: detection.box,
        velocity: undefined,
        missed: 0,
        sightings: [{ timestampS, box: detection.box, score: detection.score }],
      });
    });
    this.live = stillLive;
  }

  /** Every track seen in at least `minHits` frames, numbered in order of first appearance. */
  finish(): Track[] {
    return [...this.ended, ...this.live]
      .filter((track) => track.sightings.length >= this.minHits)
      .sort((a, b) => a.sightings[0]!.timestampS - b.sightings[0]!.timestampS)
      .map((track, i) => ({
        trackId: i + 1,
        category: track.category,
        firstS: track.sightings[0]!.timestampS,
        lastS: track.sightings.at(-1)!.timestampS,
        best: track.sightings.reduce((best, s) =>
          s.score > best.score || (s.score === best.score && area(s.box) > area(best.box)) ? s : best,
        ),
        sightings: track.sightings,
      }));
  }

  private predict(track: LiveTrack, timestampS: number): Box {
    if (!track.velocity) return track.box;
    const elapsed = timestampS - track.sightings.at(-1)!.timestampS;
    return shifted(track.box, track.velocity[0] * elapsed, track.velocity[1] * elapsed);
  }

  private cost(track: LiveTrack, predicted: Box, detection: TrackerDetection): number {
    if (track.category !== detection.category) return Infinity;
    const ratio = area(detection.box) / Math.max(area(predicted), 1e-9);
    if (ratio > MAX_AREA_RATIO || ratio < 1 / MAX_AREA_RATIO) return Infinity;
    const [px, py] = centre(predicted);
    const [dx, dy] = centre(detection.box);
    const side = Math.max(predicted[2] - predicted[0], predicted[3] - predicted[1], 1e-9);
    const shift = Math.hypot(dx - px, dy - py) / side;
    if (shift > this.maxCentreShift) return Infinity;
    return 1 - iou(predicted, detection.box) + shift;
  }

  private observe(track: LiveTrack, timestampS: number, detection: TrackerDetection): void {
    const last = track.sightings.at(-1)!;
    const elapsed = timestampS - last.timestampS;
    const [lx, ly] = centre(last.box);
    const [nx, ny] = centre(detection.box);
    const measured: [number, number] = [(nx - lx) / elapsed, (ny - ly) / elapsed];
    track.velocity = track.velocity
      ? [
          track.velocity[0] + VELOCITY_GAIN * (measured[0] - track.velocity[0]),
          track.velocity[1] + VELOCITY_GAIN * (measured[1] - track.velocity[1]),
        ]
      : measured;
    track.box = detection.box;
    track.missed = 0;
    track.sightings.push({ timestampS, box: detection.box, score: detection.score });
  }
}
