/**
 * Text read on a video's sampled frames becomes one result per piece of text: a line seen again on the
 * next sampled frames, at about the same place and with about the same reading, extends its time segment
 * instead of starting a new result. Overlay clocks tick every second; their readings differ by a
 * character or two and stay one result. On an image every line is a result of its own.
 */
import { iou } from '../boxes.js';
import type { Box } from '../types.js';
import { editDistance } from './accuracy.js';
import { languageOf } from './script.js';

export interface ReadLine {
  text: string;
  confidence: number;
  box: Box;
}

export interface FrameText {
  /** Seconds from the start of the video. */
  time: number;
  lines: readonly ReadLine[];
}

export interface TimeSegment {
  start_seconds: number;
  end_seconds: number;
}

export interface OcrResult {
  /** Absent where the characters do not tell the language. */
  language_code?: string;
  full_text: string;
  time_segment?: TimeSegment;
}

export interface MergeOptions {
  /** Seconds between sampled frames: a line covers its frame until the next one. */
  frameInterval: number;
  /** Sampled frames a line may be missing from and still continue (a passer-by hiding it). Default 1. */
  maxMissedFrames?: number;
  /** Least box overlap (IoU) for two readings to be the same text. Default 0.3. */
  minOverlap?: number;
  /** Most edits per character between two readings of the same text. Default 0.34. */
  maxEditShare?: number;
  /** Where the video ends, so no segment runs past it. */
  duration?: number;
}

interface Track {
  /** Order of first sight, so results of one frame keep reading order. */
  order: number;
  box: Box;
  lastText: string;
  start: number;
  lastSeen: number;
  /** Total confidence per distinct reading: the most confident reading names the result. */
  readings: Map<string, number>;
}

export function mergeFrameText(frames: readonly FrameText[], options: MergeOptions): OcrResult[] {
  const { frameInterval, maxMissedFrames = 1, minOverlap = 0.3, maxEditShare = 0.34, duration = Infinity } = options;
  const open: Track[] = [];
  const closed: Track[] = [];
  for (const frame of [...frames].sort((a, b) => a.time - b.time)) {
    // Tracks not seen for too long end before this frame is matched.
    for (let i = open.length - 1; i >= 0; i--) {
      if (frame.time - open[i]!.lastSeen > (maxMissedFrames + 1) * frameInterval + 1e-6) closed.push(...open.splice(i, 1));
    }
    const taken = new Set<Track>();
    for (const line of frame.lines) {
      const text = normalise(line.text);
      if (text === '') continue;
      const match = open
        .filter((track) => !taken.has(track) && iou(track.box, line.box) >= minOverlap && similar(track.lastText, text, maxEditShare))
        .sort((a, b) => iou(b.box, line.box) - iou(a.box, line.box))[0];
      const track = match ?? { order: open.length + closed.length, box: line.box, lastText: text, start: frame.time, lastSeen: frame.time, readings: new Map<string, number>() };
      if (!match) open.push(track);
      taken.add(track);
      track.box = line.box;
      track.lastText = text;
      track.lastSeen = frame.time;
      track.readings.set(text, (track.readings.get(text) ?? 0) + line.confidence);
    }
  }
  return [...closed, ...open]
    .sort((a, b) => a.start - b.start || a.order - b.order)
    .map((track) => {
      const fullText = [...track.readings.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      const language = languageOf(fullText);
      return {
        ...(language ? { language_code: language } : {}),
        full_text: fullText,
        time_segment: { start_seconds: round2(track.start), end_seconds: round2(Math.min(duration, track.lastSeen + frameInterval)) },
      };
    });
}

/** An image's lines as results, in reading order, without repeats. */
export function imageTextResults(lines: readonly ReadLine[]): OcrResult[] {
  const seen = new Set<string>();
  const results: OcrResult[] = [];
  for (const line of lines) {
    const text = normalise(line.text);
    if (text === '' || seen.has(text)) continue;
    seen.add(text);
    const language = languageOf(text);
    results.push({ ...(language ? { language_code: language } : {}), full_text: text });
  }
  return results;
}

function similar(a: string, b: string, maxEditShare: number): boolean {
  return editDistance(a, b) <= maxEditShare * Math.max([...a].length, [...b].length);
}

const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();
const round2 = (value: number) => Math.round(value * 100) / 100;
