import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CHANGE_COPY_WIDTH,
  changeCopy,
  changedCells,
  examinationPlan,
  examinationRounds,
  wholeFrame,
  type ChangeCopy,
} from '../../gpu-worker/changed-frames.js';
import { tileRegions } from '../../gpu-worker/tiles.js';
import { openResizable } from '../../media/image.js';
import { eventFrames } from '../support/alarms.js';

/** A 64 × 48 copy (8 × 6 cells) of a 640 × 480 frame, every pixel `level`. */
const flat = (level = 100, source = { sourceWidth: 640, sourceHeight: 480 }): ChangeCopy => ({ width: 64, height: 48, data: new Uint8Array(64 * 48).fill(level), ...source });

/** `copy` with `count` pixels of the row `y`, from `x` on, set to `level`. */
function withPixels(copy: ChangeCopy, x: number, y: number, count: number, level: number): ChangeCopy {
  const data = Uint8Array.from(copy.data);
  data.fill(level, y * copy.width + x, y * copy.width + x + count);
  return { ...copy, data };
}

const changedIndexes = (cells: boolean[]) => cells.flatMap((changed, index) => (changed ? [index] : []));

describe('changed cells', () => {
  it('a cell changes when more than 3 of its pixels differ by more than 25 grey levels', () => {
    const before = flat(100);
    assert.deepEqual(changedIndexes(changedCells(before, before)), []);
    assert.deepEqual(changedIndexes(changedCells(before, withPixels(before, 8, 0, 3, 200))), [], 'three pixels');
    assert.deepEqual(changedIndexes(changedCells(before, withPixels(before, 8, 0, 4, 125))), [], 'by 25 levels');
    assert.deepEqual(changedIndexes(changedCells(before, withPixels(before, 8, 0, 4, 126))), [1]);
    // The cell in the second row, last column.
    assert.deepEqual(changedIndexes(changedCells(before, withPixels(before, 56, 9, 4, 0))), [15]);
  });

  it('frames of another size, or copies of differently sized frames, changed everywhere', () => {
    assert.equal(changedIndexes(changedCells(flat(), flat(100, { sourceWidth: 320, sourceHeight: 240 }))).length, 48);
    const smaller = { width: 32, height: 24, data: new Uint8Array(32 * 24).fill(100), sourceWidth: 320, sourceHeight: 240 };
    assert.equal(changedIndexes(changedCells(flat(), smaller)).length, 12);
  });
});

describe('examination plan', () => {
  it('examines a static scene on its first frame only', () => {
    const frames = [flat(), flat(), flat(), flat()];
    assert.deepEqual(examinationPlan(frames, wholeFrame), [[0], [0], [0], [0]]);
    assert.deepEqual(examinationPlan(frames, tileRegions), [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]);
  });

  it('examines a frame again once it differs from the one last examined, and then the frames like it no more', () => {
    const changed = withPixels(flat(), 0, 0, 8, 0);
    assert.deepEqual(examinationPlan([flat(), flat(), changed, changed, flat()], wholeFrame), [[0], [0], [2], [2], [4]]);
  });

  it('sees a slow change against the frame last examined, not the one just before', () => {
    // 10 grey levels a frame: never more than 25 between neighbours, 30 by the fourth frame.
    const frames = [100, 110, 120, 130, 140].map((level) => withPixels(flat(), 0, 20, 8, level));
    assert.deepEqual(examinationPlan(frames, wholeFrame), [[0], [0], [0], [3], [3]]);
  });

  it('examines only the tiles a change touches; the others keep the frame they were last examined on', () => {
    // Bottom right of the 64 × 48 copy: only in the last tile (left 26, top 19 onwards).
    const bottomRight = withPixels(flat(), 56, 44, 8, 0);
    // Top middle (x 32–39, y 0): in both top tiles.
    const topMiddle = withPixels(bottomRight, 32, 0, 8, 0);
    assert.deepEqual(examinationPlan([flat(), bottomRight, topMiddle], tileRegions), [
      [0, 0, 0, 0],
      [0, 0, 0, 1],
      [2, 2, 0, 1],
    ]);
  });

  it('first leaves out every other frame of a scene that changes in every frame, then examines them once something is found', () => {
    // Something dark moves one cell to the right in each frame.
    const moving = [0, 1, 2, 3, 4, 5].map((cell) => withPixels(flat(), cell * 8, 0, 8, 0));
    assert.deepEqual(examinationRounds(moving, wholeFrame), {
      first: [[0], [null], [2], [null], [4], [null]],
      whenFound: [[0], [1], [2], [3], [4], [5]],
    });
    // Turned off (DETECTOR_EVERY_OTHER_CHANGE=false): every changed frame from the first round on.
    assert.deepEqual(examinationRounds(moving, wholeFrame, false).first, [[0], [1], [2], [3], [4], [5]]);
  });

  it('leaves out only a change right after an examination; events of up to 4 frames are examined wherever they changed', () => {
    const changed = withPixels(flat(), 0, 0, 8, 0);
    // Frame 1 changed right after frame 0 was examined: left out. Frame 2 differs from frame 0, last examined, and
    // frame 1 was not examined: examined. Frames 3 and 4 are like frame 2.
    assert.deepEqual(examinationRounds([flat(), changed, changed, changed, changed], wholeFrame), {
      first: [[0], [null], [2], [2], [2]],
      whenFound: [[0], [1], [2], [2], [2]],
    });
    const moving = [0, 1, 2, 3].map((cell) => withPixels(flat(), cell * 8, 0, 8, 0));
    assert.deepEqual(examinationRounds(moving, wholeFrame), { first: [[0], [1], [2], [3]], whenFound: [[0], [1], [2], [3]] });
    const still = [flat(), flat(), flat(), flat(), flat()];
    assert.deepEqual(examinationRounds(still, wholeFrame), { first: [[0], [0], [0], [0], [0]], whenFound: [[0], [0], [0], [0], [0]] });
  });

  it('leaves out tile by tile: a tile examined on the frame before waits, one examined longer ago does not', () => {
    // The top left tile changes in frames 1 and 2, the bottom right tile in frame 2 only; then nothing changes.
    const topLeft = withPixels(flat(), 0, 0, 8, 0);
    const both = withPixels(withPixels(flat(), 0, 0, 8, 50), 56, 44, 8, 0);
    assert.deepEqual(examinationRounds([flat(), topLeft, both, both, both], tileRegions), {
      first: [
        [0, 0, 0, 0],
        [null, 0, 0, 0],
        [2, 0, 0, 2],
        [2, 0, 0, 2],
        [2, 0, 0, 2],
      ],
      whenFound: [
        [0, 0, 0, 0],
        [1, 0, 0, 0],
        [2, 0, 0, 2],
        [2, 0, 0, 2],
        [2, 0, 0, 2],
      ],
    });
  });

  it('on the fixtures: an empty car park is examined on a few frames and tiles, a walking crowd on every frame', async () => {
    const copiesOf = async (event: string) => Promise.all((await eventFrames(event)).map(async ({ bytes }) => changeCopy(await openResizable(bytes))));
    const parking = await copiesOf('parking_lot_empty_a');
    assert.deepEqual(
      parking.map((copy) => [copy.width, copy.sourceWidth]),
      parking.map(() => [CHANGE_COPY_WIDTH, parking[0]!.sourceWidth]),
    );
    const examined = (plan: number[][]) => plan.flatMap((regions, position) => regions.filter((from) => from === position)).length;
    // A cell or two changes on three of its frames (a bird, a flicker): only the tiles they fall in are examined again.
    const parkingFrames = examined(examinationPlan(parking, wholeFrame));
    const parkingTiles = examined(examinationPlan(parking, tileRegions));
    assert.ok(parkingFrames <= 3 && parkingTiles <= 8, `${parkingFrames} frames and ${parkingTiles} tiles of the empty car park`);
    assert.equal(examined(examinationPlan(await copiesOf('pets2009_people_walking_a'), wholeFrame)), 8);
  });
});
