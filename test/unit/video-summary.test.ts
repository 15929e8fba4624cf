import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Box } from '../../domain/types.js';
import { summariseVideo, tagOfCategory, type SampledFrame, type VideoSummaryInput } from '../../domain/video/summary.js';

const STEP = 0.5;

interface Plan {
  /** Per sampled frame: the people (their x position) it shows. */
  people?: (number[] | undefined)[];
  cars?: (number[] | undefined)[];
  knives?: boolean[];
  activity?: number[];
  luma?: number;
}

function input(length: number, plan: Plan, extra: Partial<VideoSummaryInput> = {}): VideoSummaryInput {
  const frames: SampledFrame[] = Array.from({ length }, (_, i) => ({
    timestampS: i * STEP,
    width: 640,
    height: 360,
    meanLuma: plan.luma ?? 120,
    detections: [
      ...(plan.people?.[i] ?? []).map((x) => ({ category: 'person', box: [x + i * 10, 100, x + i * 10 + 40, 220] as Box, score: 0.8 })),
      ...(plan.cars?.[i] ?? []).map((x) => ({ category: 'vehicle', box: [x, 200, x + 120, 280] as Box, score: 0.7 })),
      ...(plan.knives?.[i] ? [{ category: 'weapon', box: [300, 150, 320, 190] as Box, score: 0.7 }] : []),
    ],
  }));
  return {
    durationS: length * STEP,
    scenes: [{ start_seconds: 0, end_seconds: length * STEP }],
    activity: frames.map((f, i) => ({ timestampS: f.timestampS, value: plan.activity?.[i] ?? 0 })),
    frames,
    criticalTags: [],
    ...extra,
  };
}

const one = [100];
const tagged = (result: ReturnType<typeof summariseVideo>) =>
  result.sections.map((s) => [s.section_tag, s.time_segments[0]!.start_seconds, s.time_segments[0]!.end_seconds]);

describe('summariseVideo', () => {
  it('tags people from their track and the rest empty', () => {
    const people = Array.from({ length: 20 }, (_, i) => (i >= 6 && i < 14 ? one : undefined));
    const result = summariseVideo(input(20, { people }));
    assert.deepEqual(tagged(result), [
      ['empty', 0, 3],
      ['people', 3, 7],
      ['empty', 7, 10],
    ]);
    const section = result.sections[1]!;
    assert.equal(section.confidence, 0.8);
    assert.equal(section.is_critical, false);
    assert.deepEqual(result.tracks.map((t) => [t.trackId, t.category, t.firstS, t.lastS]), [[1, 'person', 3, 6.5]]);
  });

  it('bridges frames the detector missed and drops a one-frame detection', () => {
    // Seen at 2–5 and 7–9 (6 missed), and a lone false detection at 15.
    const people = Array.from({ length: 20 }, (_, i) => ((i >= 2 && i <= 9 && i !== 6) || i === 15 ? one : undefined));
    const result = summariseVideo(input(20, { people }));
    assert.deepEqual(tagged(result).filter(([tag]) => tag === 'people'), [['people', 1, 5]]);
    assert.equal(result.tracks.length, 1);
    // The missed frame lowers the confidence: 7 of 8 frames at 0.8.
    assert.equal(result.sections.find((s) => s.section_tag === 'people')!.confidence, 0.7);
  });

  it('joins activity across a short lull, drops a one-sample blip, and scores relative activity', () => {
    const activity = [0, 0.1, 0.12, 0, 0.08, 0.1, 0, 0, 0, 0, 0.3, 0, 0, 0, 0];
    const result = summariseVideo(input(15, { activity }));
    // The still first sample alone is shorter than a section.
    assert.deepEqual(tagged(result), [
      ['activity', 0.5, 3],
      ['empty', 3, 7.5],
    ]);
    const section = result.sections[0]!;
    assert.equal(section.thumbnail_timestamp, 1);
    // Mean 0.08 over the section against the video's highest sample, 0.3.
    assert.equal(section.relative_activity, 0.27);
    assert.deepEqual(result.frameActivityDiffs, activity);
  });

  it('never crosses a cut, and ignores the activity of a shot’s first sample', () => {
    const people = Array.from({ length: 12 }, () => one);
    const activity = Array.from({ length: 12 }, (_, i) => (i === 6 ? 0.9 : 0));
    const scenes = [
      { start_seconds: 0, end_seconds: 3 },
      { start_seconds: 3, end_seconds: 6 },
    ];
    const result = summariseVideo(input(12, { people, activity }, { scenes }));
    assert.deepEqual(tagged(result), [
      ['people', 0, 3],
      ['people', 3, 6],
    ]);
  });

  it('makes people at night, weapons and the account’s critical tags critical', () => {
    const people = Array.from({ length: 8 }, () => one);
    assert.equal(summariseVideo(input(8, { people, luma: 30 })).sections[0]!.is_critical, true);
    assert.equal(summariseVideo(input(8, { people, luma: 140 })).sections[0]!.is_critical, false);

    const armed = summariseVideo(input(8, { people, knives: [false, true, true, true, false, false, false, false] }));
    assert.deepEqual(armed.sections.map((s) => [s.section_tag, s.is_critical]), [['people', true], ['weapons', true]]);

    const cars = Array.from({ length: 8 }, () => [400]);
    const yard = summariseVideo(input(8, { cars }, { criticalTags: ['vehicles'] }));
    assert.deepEqual(yard.sections.map((s) => [s.section_tag, s.is_critical]), [['vehicles', true]]);
  });

  it('counts two people side by side as two tracks, with their best sightings', () => {
    const people = Array.from({ length: 6 }, () => [100, 160]);
    const { tracks } = summariseVideo(input(6, { people }));
    assert.deepEqual(tracks.map((t) => [t.trackId, t.firstS, t.lastS, t.best.timestampS]), [[1, 0, 2.5, 0], [2, 0, 2.5, 0]]);
  });

  it('ignores detections below the category’s minimum score', () => {
    const frames = input(6, {}).frames.map((f) => ({ ...f, detections: [{ category: 'person', box: [10, 10, 50, 130] as Box, score: 0.3 }] }));
    assert.deepEqual(tagged(summariseVideo({ ...input(6, {}), frames })), [['empty', 0, 3]]);
    assert.equal(summariseVideo({ ...input(6, {}), frames }, { minScore: { person: 0.25 } }).sections[0]!.section_tag, 'people');
  });

  it('maps detection categories to section tags', () => {
    assert.deepEqual(['person', 'vehicle', 'weapon', 'dog', 'animal', 'chair'].map(tagOfCategory), ['people', 'vehicles', 'weapons', 'animals', 'animals', undefined]);
  });
});
