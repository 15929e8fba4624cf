import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAlarmActivities } from '../../activities/alarm.js';
import { createDatabase, type Db } from '../../db/database.js';
import { filterSettingsFor, type FilterOverrides } from '../../domain/filters.js';
import { qualityThumbnailWidth } from '../../domain/frame-quality.js';
import { assessFrameQuality } from '../support/frame-quality.js';
import type { MeasuredFrameDetections } from '../../domain/frame-measures.js';
import { frameActivityDiffs, hasMotion } from '../../domain/motion.js';
import type { Sensitivity } from '../../domain/types.js';
import { measureEventFrames } from '../../gpu-worker/frame-measures.js';
import { createLogger } from '../../logging/logger.js';
import { decodeToGrey, shrinkGrey } from '../../media/image.js';
import { FileSystemMediaStore } from '../../media/store.js';
import type { FrameRef } from '../../workflows/contracts/alarm-verification.js';
import { eventFrames, fixtureEvents } from '../support/alarms.js';

/** Thresholds that raise every flag on some fixture frames, so the flags themselves are compared, not only their absence. */
const strictJudging: FilterOverrides = {
  all: { quality: { tooDarkShare: 0.05, maxBlurEffect: 0.25, frozenMaxChangedShare: 0.3, lensBlocked: { minShare: 0, minLitBrightness: 0 } } },
};
/** Other measuring settings than the detection worker's: its measures cannot stand for these. */
const otherMeasuring: FilterOverrides = { all: { quality: { darkLevel: 70, lensBlocked: { cellsAcross: 12 } } } };

/** The analysis before the measures moved to the detection worker: decoded here, at the quality width, then shrunk for motion. */
async function analysedAsBefore(frames: readonly Uint8Array[], siteCategory: string, overrides: FilterOverrides, sensitivity: Sensitivity) {
  const thumbnails = await Promise.all(frames.map((bytes) => decodeToGrey(bytes, qualityThumbnailWidth)));
  const first = await shrinkGrey(thumbnails[0]!, 64);
  const motion = [first, ...(await Promise.all(thumbnails.slice(1).map((t) => shrinkGrey(t, first.width, first.height))))];
  const activityDiffs = frameActivityDiffs(motion);
  const settings = filterSettingsFor(siteCategory, overrides);
  const quality = sensitivity === 2 ? assessFrameQuality(thumbnails, settings.quality, settings.disabled) : { frames: [], indicators: [] };
  return { activityDiffs, hasMotion: hasMotion(activityDiffs), quality: quality.frames, indicators: quality.indicators };
}

/** Two events' frames taken turn about: two sizes in one event, as a vendor mixing streams sends. */
async function mixedEvent(): Promise<Uint8Array[]> {
  const [wide, small] = await Promise.all([eventFrames('parking_lot_cars'), eventFrames('tree_foliage_wind')]);
  return wide.map((frame, i) => (i % 2 === 0 ? frame.bytes : small[i]!.bytes));
}

/** The third frame sent again as the fourth: a frozen camera. */
async function repeatedFrameEvent(): Promise<Uint8Array[]> {
  const frames = (await eventFrames('parking_lot_empty_a')).map((frame) => frame.bytes);
  return frames.map((bytes, i) => (i === 3 ? frames[2]! : bytes));
}

describe('frame measures from the detection worker', () => {
  let mediaDir: string;
  let media: FileSystemMediaStore;
  // analyseFrames without a camera id looks up no previous event: the pool never connects.
  let db: Db;
  const events = new Map<string, FrameRef[]>();

  before(async () => {
    mediaDir = await mkdtemp(path.join(tmpdir(), 'vigil-frame-measures-'));
    media = new FileSystemMediaStore(mediaDir);
    db = createDatabase('postgres://unused@127.0.0.1:1/unused', 1);
    const sources: [string, Uint8Array[]][] = [
      ...(await Promise.all(fixtureEvents.map(async (event) => [event, (await eventFrames(event)).map((f) => f.bytes)] as [string, Uint8Array[]]))),
      ['mixed sizes', await mixedEvent()],
      ['repeated frame', await repeatedFrameEvent()],
    ];
    for (const [event, frames] of sources) {
      const refs: FrameRef[] = [];
      for (const [index, bytes] of frames.entries()) {
        const key = `alarms/${event.replaceAll(' ', '_')}/frame_0${index}.jpg`;
        await media.put(key, bytes);
        refs.push({ index, key });
      }
      events.set(event, refs);
    }
  });
  after(async () => {
    await db.destroy();
    await rm(mediaDir, { recursive: true, force: true });
  });

  /** What detectFrames hands the analysis: here no detections, and the measures as the detection worker takes them. */
  async function detected(frames: readonly FrameRef[]): Promise<MeasuredFrameDetections[]> {
    const measures = await measureEventFrames(frames.map((frame) => ({ index: frame.index, load: () => media.get(frame.key) })));
    return frames.map((frame, position) => ({ frameIndex: frame.index, width: 1, height: 1, detections: [], measures: measures[position]! }));
  }

  const cases: { name: string; siteCategory: string; overrides: FilterOverrides; sensitivity: Sensitivity }[] = [
    { name: 'default settings', siteCategory: 'retail', overrides: {}, sensitivity: 2 },
    { name: 'strict thresholds', siteCategory: 'residence', overrides: strictJudging, sensitivity: 2 },
    { name: 'other measuring settings', siteCategory: 'retail', overrides: otherMeasuring, sensitivity: 2 },
    { name: 'sensitivity 1', siteCategory: 'retail', overrides: strictJudging, sensitivity: 1 },
  ];

  for (const { name, siteCategory, overrides, sensitivity } of cases) {
    it(`${name}: the same quality, flags and motion from the measures, from old detections and as before`, async () => {
      const analysis = createAlarmActivities({ db, media, logger: createLogger('error', 'test'), filterOverrides: overrides });
      const flagged = new Set<string>();
      for (const [event, frames] of events) {
        const before = await analysedAsBefore(await Promise.all(frames.map((frame) => media.get(frame.key))), siteCategory, overrides, sensitivity);
        const measured = await detected(frames);
        const input = { accountId: 'acct', jobId: 'job', siteCategory, frames, sensitivity };
        const fromMeasures = await analysis.analyseFrames({ ...input, detections: measured });
        const fromOldDetections = await analysis.analyseFrames({ ...input, detections: measured.map(({ measures: _measures, ...frame }) => frame) });
        for (const [path, result] of [['measures', fromMeasures], ['old detections', fromOldDetections]] as const) {
          const seen = { activityDiffs: result.activityDiffs, hasMotion: result.hasMotion, quality: result.quality, indicators: result.indicators };
          assert.deepEqual(seen, before, `${event}, from ${path}`);
          assert.ok(result.kept.every((frame) => !('measures' in frame)), `${event}, from ${path}: the measures stop at the analysis`);
        }
        before.indicators.forEach((indicator) => flagged.add(indicator));
      }
      if (name === 'strict thresholds') assert.deepEqual([...flagged].sort(), ['frame_blurred', 'frame_frozen', 'frame_too_dark', 'lens_blocked']);
    });
  }

  it('with them, the analysis reads no frame', async () => {
    const analysis = createAlarmActivities({ db, media, logger: createLogger('error', 'test') });
    const frames = events.get('warehouse_worker_hardhat')!;
    const gone = frames.map((frame) => ({ ...frame, key: `${frame.key}.gone` }));
    const input = { accountId: 'acct', jobId: 'job', siteCategory: 'retail', sensitivity: 2 as const };
    const fromMeasures = await analysis.analyseFrames({ ...input, frames: gone, detections: await detected(frames) });
    assert.deepEqual(fromMeasures.activityDiffs, (await analysis.analyseFrames({ ...input, frames, detections: [] })).activityDiffs);
  });

  it('are none for an event without frames, as its detections are', async () => {
    assert.deepEqual(await measureEventFrames([]), []);
  });

  it('stay small in the history: under 300 bytes of JSON a frame', async () => {
    const measured = await detected(events.get('pets2009_people_walking_a')!);
    const bytes = JSON.stringify(measured.map((frame) => frame.measures)).length;
    assert.ok(bytes < 300 * measured.length, `${bytes} bytes for ${measured.length} frames`);
  });
});
