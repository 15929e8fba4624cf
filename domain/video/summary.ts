/**
 * A video's sections (spec 2 `sections`): maximal time segments tagged by what happens in them. Pure:
 * it reads what the pipeline measured (shots, activity per sampled frame, detections per sampled frame)
 * and decides nothing else.
 *
 * - Objects: detections are linked into tracks (`tracker.ts`); a tag (people, vehicles, animals, weapons)
 *   holds from a track's first to its last sighting, so a missed frame or two leaves no hole and a
 *   one-frame false detection makes no section.
 * - `activity`: sampled frames whose activity reaches `activityThreshold`; the first sample of a shot is
 *   left out (its change is the cut, not something moving).
 * - `empty`: what no other section covers.
 * - Within each shot, runs of one tag closer than `mergeGapS` are joined and runs shorter than
 *   `minSectionS` dropped, so sections do not flicker; no section crosses a cut.
 */
import { defaultFilterSettings } from '../filters.js';
import { detectionCategories, type Box, type DetectionCategory } from '../types.js';
import { ObjectTracker, type Track } from './tracker.js';
import type { RawScene } from './scene-cuts.js';

export interface VideoSummaryInput {
  durationS: number;
  scenes: RawScene[];
  /** One value per sampled frame (`ActivityMeter`), at the sample rate. */
  activity: { timestampS: number; value: number }[];
  /** The sampled frames with their detections, in time order. */
  frames: SampledFrame[];
  /** Section tags the account treats as critical wherever they occur (e.g. "vehicles" for a closed yard). */
  criticalTags: string[];
}

export interface SampledFrame {
  timestampS: number;
  width: number;
  height: number;
  /** Mean grey level, 0–255: tells night from day. */
  meanLuma: number;
  detections: { category: string; box: Box; score: number }[];
}

export const sectionTags = ['people', 'vehicles', 'animals', 'weapons', 'activity', 'empty'] as const;
export type SectionTag = (typeof sectionTags)[number];

export interface TimeSegment {
  start_seconds: number;
  end_seconds: number;
}

/** A section in spec 2's shape. */
export interface Section {
  section_tag: SectionTag | (string & {});
  time_segments: TimeSegment[];
  /** The section's best frame: its strongest detection, its most active or (empty) its middle frame. */
  thumbnail_timestamp: number;
  /** 0–1: how clearly the section's frames show its tag, on average. */
  confidence: number;
  is_critical: boolean;
  /** The section's mean activity relative to the video's most active sample, 0–1. */
  relative_activity: number;
}

export interface VideoTrack {
  trackId: number;
  category: string;
  firstS: number;
  lastS: number;
  best: { timestampS: number; box: Box; score: number };
}

export interface VideoSummary {
  sections: Section[];
  tracks: VideoTrack[];
  frameActivityDiffs: number[];
}

export interface VideoSummaryOptions {
  /** Activity (share of the picture changed) from which a sample counts as activity. Default 0.015. */
  activityThreshold?: number;
  /** Runs of one tag separated by at most this many seconds are one section. Default 1. */
  mergeGapS?: number;
  /** Shorter sections are dropped. Default 1 (two samples at 2 per second). */
  minSectionS?: number;
  /** Mean grey level below which a frame is night: people then make the section critical. Default 60. */
  nightLuma?: number;
  /** Lowest score a detection needs to count, per category; others need `minScore.other`. */
  minScore?: Partial<Record<string, number>>;
}

/** Share of the picture changed (see `activity.ts`) from which a sample is activity: foliage stays below. */
export const defaultActivityThreshold = 0.015;
const defaults = { activityThreshold: defaultActivityThreshold, mergeGapS: 1, minSectionS: 1, nightLuma: 60 };
const defaultMinScore: Record<string, number> = { ...defaultFilterSettings.minScore, other: 0.4 };

const animalLabels = new Set(['animal', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe']);
const objectTagOf: Record<DetectionCategory, SectionTag> = { person: 'people', vehicle: 'vehicles', weapon: 'weapons' };

/** The section tag of a detection category, or undefined for one no section is about. */
export function tagOfCategory(category: string): SectionTag | undefined {
  if ((detectionCategories as readonly string[]).includes(category)) return objectTagOf[category as DetectionCategory];
  return animalLabels.has(category) ? 'animals' : undefined;
}

const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;

/** Per sampled frame, how strongly (0–1) the tag shows, or undefined where it does not hold. */
type Presence = (number | undefined)[];

export function summariseVideo(input: VideoSummaryInput, options: VideoSummaryOptions = {}): VideoSummary {
  const opts = { ...defaults, ...options };
  const minScore: Record<string, number> = { ...defaultMinScore };
  for (const [category, score] of Object.entries(options.minScore ?? {})) if (score !== undefined) minScore[category] = score;
  const frames = [...input.frames].sort((a, b) => a.timestampS - b.timestampS);
  const times = frames.map((f) => f.timestampS);
  const step = sampleStep(times);
  const scenes = input.scenes.length > 0 ? input.scenes : [{ start_seconds: 0, end_seconds: input.durationS }];
  const sceneOf = (t: number) => Math.max(0, scenes.findIndex((s) => t >= s.start_seconds && t < s.end_seconds));

  const tracks = trackObjects(frames, minScore);
  const activity = activityAt(times, input.activity);
  // The change measured at a shot's first sample spans the cut.
  const movement = activity.map((value, i) => (i > 0 && sceneOf(times[i - 1]!) !== sceneOf(times[i]!) ? 0 : value));
  const maxActivity = Math.max(0, ...movement);

  // Sightings carry their frame's timestamp, so each is found back by it.
  const frameAt = new Map(times.map((t, i) => [t, i]));
  const presence = new Map<SectionTag, Presence>();
  for (const track of tracks) {
    const tag = tagOfCategory(track.category)!;
    const strengths = presence.get(tag) ?? times.map(() => undefined);
    presence.set(tag, strengths);
    // Frames between sightings (missed by the detector) hold the tag with strength 0.
    for (let i = frameAt.get(track.firstS)!; i <= frameAt.get(track.lastS)!; i++) strengths[i] ??= 0;
    for (const sighting of track.sightings) {
      const i = frameAt.get(sighting.timestampS)!;
      strengths[i] = Math.max(strengths[i]!, sighting.score);
    }
  }
  presence.set(
    'activity',
    movement.map((value) => (value >= opts.activityThreshold ? Math.min(1, value / (2 * opts.activityThreshold)) : undefined)),
  );

  const runsOf = (strengths: Presence) =>
    scenes.flatMap((scene, s) => smoothRuns(strengths, (i) => sceneOf(times[i]!) === s, times, step, opts));
  const sections: { tag: SectionTag; from: number; to: number; strengths: Presence }[] = [];
  for (const [tag, strengths] of presence) {
    for (const run of runsOf(strengths)) sections.push({ tag, ...run, strengths });
  }
  // Empty: covered by no other section; its strength is how little any raw detection or movement showed.
  const covered = times.map((_, i) => sections.some((s) => i >= s.from && i <= s.to));
  const emptiness: Presence = frames.map((frame, i) => {
    if (covered[i]) return undefined;
    const strongest = Math.max(0, ...frame.detections.map((d) => d.score));
    return 1 - Math.max(strongest, Math.min(1, movement[i]! / opts.activityThreshold));
  });
  for (const run of runsOf(emptiness)) sections.push({ tag: 'empty', ...run, strengths: emptiness });

  const weaponFrames = presence.get('weapons');
  return {
    sections: sections
      .map(({ tag, from, to, strengths }): Section => {
        const indices = Array.from({ length: to - from + 1 }, (_, k) => from + k);
        const scene = scenes[sceneOf(times[from]!)]!;
        const night = mean(indices.map((i) => frames[i]!.meanLuma)) < opts.nightLuma;
        const armed = weaponFrames !== undefined && indices.some((i) => weaponFrames[i] !== undefined);
        return {
          section_tag: tag,
          time_segments: [
            { start_seconds: round(times[from]!, 3), end_seconds: round(Math.min(times[to]! + step, scene.end_seconds, input.durationS), 3) },
          ],
          thumbnail_timestamp: times[bestFrame(tag, indices, strengths, movement)]!,
          confidence: round(mean(indices.map((i) => strengths[i] ?? 0)), 2),
          is_critical:
            input.criticalTags.includes(tag) || tag === 'weapons' || ((tag === 'people' || tag === 'activity') && armed) || (tag === 'people' && night),
          relative_activity: maxActivity > 0 ? round(mean(indices.map((i) => movement[i]!)) / maxActivity, 2) : 0,
        };
      })
      .sort(
        (a, b) =>
          a.time_segments[0]!.start_seconds - b.time_segments[0]!.start_seconds ||
          sectionTags.indexOf(a.section_tag as SectionTag) - sectionTags.indexOf(b.section_tag as SectionTag),
      ),
    tracks: tracks.map(({ trackId, category, firstS, lastS, best }) => ({ trackId, category, firstS, lastS, best })),
    frameActivityDiffs: input.activity.map((a) => round(a.value, 4)),
  };
}

function trackObjects(frames: readonly SampledFrame[], minScore: Record<string, number>): Track[] {
  const tracker = new ObjectTracker();
  for (const frame of frames) {
    tracker.update(
      frame.timestampS,
      frame.detections.filter((d) => tagOfCategory(d.category) !== undefined && d.score >= (minScore[d.category] ?? minScore.other!)),
    );
  }
  return tracker.finish();
}

/** The usual spacing of the sampled frames (their median gap); half a second when there are too few. */
function sampleStep(times: readonly number[]): number {
  const gaps = times.slice(1).map((t, i) => t - times[i]!).sort((a, b) => a - b);
  return gaps.length > 0 ? gaps[Math.floor(gaps.length / 2)]! : 0.5;
}

/** Each frame's activity: the value sampled nearest in time (0 when none was measured). Both lists in time order. */
function activityAt(times: readonly number[], activity: VideoSummaryInput['activity']): number[] {
  const sorted = [...activity].sort((a, b) => a.timestampS - b.timestampS);
  let j = 0;
  return times.map((t) => {
    while (j + 1 < sorted.length && Math.abs(sorted[j + 1]!.timestampS - t) <= Math.abs(sorted[j]!.timestampS - t)) j++;
    return sorted[j]?.value ?? 0;
  });
}

/** Runs of frames where the tag holds within one shot, gaps up to mergeGapS joined, runs under minSectionS dropped. */
function smoothRuns(
  strengths: Presence,
  inScene: (i: number) => boolean,
  times: readonly number[],
  step: number,
  opts: { mergeGapS: number; minSectionS: number },
): { from: number; to: number }[] {
  const runs: { from: number; to: number }[] = [];
  for (let i = 0; i < strengths.length; i++) {
    if (strengths[i] === undefined || !inScene(i)) continue;
    const last = runs.at(-1);
    // The gap is the time with no sample showing the tag between the two runs.
    if (last && times[i]! - (times[last.to]! + step) <= opts.mergeGapS + 1e-6) last.to = i;
    else runs.push({ from: i, to: i });
  }
  return runs.filter((run) => times[run.to]! + step - times[run.from]! >= opts.minSectionS - 1e-6);
}

/** Objects: the strongest detection; activity: the most movement; empty: the middle frame. Earliest among equals. */
function bestFrame(tag: SectionTag, indices: number[], strengths: Presence, movement: number[]): number {
  if (tag === 'empty') return indices[Math.floor((indices.length - 1) / 2)]!;
  const value = (i: number) => (tag === 'activity' ? movement[i]! : (strengths[i] ?? 0));
  return indices.reduce((best, i) => (value(i) > value(best) ? i : best));
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}
