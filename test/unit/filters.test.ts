import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyFilters,
  defaultFilterSettings,
  filterIndicators,
  filterOverridesSchema,
  filterSettingsFor,
  relevanceFilters,
  seenDetections,
  siteCategoryFilterDefaults,
} from '../../domain/filters.js';
import type { FilterSettings } from '../../domain/filters.js';
import type { Box, Detection, DetectionCategory, FrameDetections } from '../../domain/types.js';

const width = 1920;
const height = 1080;

function detection(category: DetectionCategory, box: Box, score = 0.9): Detection {
  const label = { person: 'person', vehicle: 'car', weapon: 'knife' }[category];
  return { category, label, score, box };
}

/** An event of `count` frames; `detections[i]` lands in frame i. */
function event(count: number, detections: Record<number, Detection[]>): FrameDetections[] {
  return Array.from({ length: count }, (_, frameIndex) => ({
    frameIndex,
    width,
    height,
    detections: detections[frameIndex] ?? [],
  }));
}

const person = (x: number, y: number, score = 0.9) => detection('person', [x, y, x + 100, y + 250], score);
const car = (x: number, y: number, score = 0.9) => detection('vehicle', [x, y, x + 400, y + 200], score);
const knife = (x: number, y: number, score = 0.9) => detection('weapon', [x, y, x + 60, y + 20], score);

function keptCount(frames: FrameDetections[]): number {
  return frames.reduce((sum, frame) => sum + frame.detections.length, 0);
}

describe('applyFilters at sensitivity 0 and 1', () => {
  for (const sensitivity of [0, 1] as const) {
    it(`keeps everything at ${sensitivity}, even what sensitivity 2 would drop`, () => {
      const frames = event(8, { 0: [person(100, 100, 0.1), detection('person', [0, 0, 2, 2])], 3: [knife(5, 5, 0.2)] });
      const outcome = applyFilters(frames, sensitivity);
      assert.deepEqual(outcome, { kept: frames, removed: [], indicators: [] });
    });
  }

  it('returns copies: changing the kept frames leaves the input alone', () => {
    const frames = event(4, { 0: [person(100, 100)] });
    applyFilters(frames, 1).kept[0]!.detections.pop();
    assert.equal(frames[0]!.detections.length, 1);
  });
});

describe('applyFilters at sensitivity 2: minimum score per class', () => {
  const cases: Array<[name: string, detection: Detection, removed: boolean]> = [
    ['person below 0.35', person(500, 400, 0.34), true],
    ['person at 0.35', person(500, 400, 0.35), false],
    ['vehicle below 0.4', car(500, 400, 0.39), true],
    ['vehicle at 0.45', car(500, 400, 0.45), false],
    ['weapon below 0.55', knife(500, 400, 0.5), true],
    ['weapon at 0.6', knife(500, 400, 0.6), false],
  ];
  for (const [name, candidate, removed] of cases) {
    it(`${name}: ${removed ? 'removed' : 'kept'}`, () => {
      // Present in two frames so persistence does not interfere.
      const outcome = applyFilters(event(4, { 0: [candidate], 1: [candidate] }), 2);
      assert.equal(keptCount(outcome.kept), removed ? 0 : 2);
      assert.deepEqual(outcome.indicators, removed ? ['filtered_low_score'] : []);
    });
  }
});

describe('applyFilters at sensitivity 2: box area', () => {
  const frameArea = width * height;
  const cases: Array<[name: string, detection: Detection, indicator: string | null]> = [
    // 0.0004 of 1920×1080 is 829 px²: 20×40 is below, 30×40 above.
    ['tiny person', detection('person', [100, 100, 120, 140]), 'filtered_small_object'],
    ['small but big enough person', detection('person', [100, 100, 130, 140]), null],
    // Vehicles need 0.001 (2074 px²): a 40×40 car is too small for a car, not for a person.
    ['tiny vehicle', detection('vehicle', [100, 100, 140, 140]), 'filtered_small_object'],
    ['person of the same size', detection('person', [100, 100, 140, 140]), null],
    ['small knife', detection('weapon', [100, 100, 130, 150]), null],
    ['speck of a knife', detection('weapon', [100, 100, 110, 110]), 'filtered_small_object'],
    ['box over the whole frame', detection('person', [0, 0, width, height]), 'filtered_large_object'],
    [
      'box reaching far outside the frame, clamped',
      detection('vehicle', [-500, -500, width + 500, height + 500]),
      'filtered_large_object',
    ],
    ['box just under the maximum', detection('vehicle', [0, 0, width, Math.floor((0.89 * frameArea) / width)]), null],
    ['degenerate box', detection('person', [300, 300, 300, 500]), 'filtered_small_object'],
  ];
  for (const [name, candidate, indicator] of cases) {
    it(`${name}: ${indicator ?? 'kept'}`, () => {
      const outcome = applyFilters(event(4, { 2: [candidate] }), 2);
      assert.deepEqual(outcome.indicators, indicator ? [indicator] : []);
      assert.deepEqual(
        outcome.removed,
        indicator ? [{ frameIndex: 2, detection: candidate, filter: indicator }] : [],
      );
    });
  }
});

describe('applyFilters at sensitivity 2: persistence', () => {
  it('drops a person seen in one frame of an 8-frame event', () => {
    const lone = person(800, 400);
    const outcome = applyFilters(event(8, { 5: [lone] }), 2);
    assert.equal(keptCount(outcome.kept), 0);
    assert.deepEqual(outcome.removed, [{ frameIndex: 5, detection: lone, filter: 'filtered_not_persistent' }]);
    assert.deepEqual(outcome.indicators, ['filtered_not_persistent']);
  });

  it('keeps a person seen once in a 4-frame event', () => {
    assert.equal(keptCount(applyFilters(event(4, { 1: [person(800, 400)] }), 2).kept), 1);
  });

  it('keeps a person standing still in every frame (loitering)', () => {
    const still = person(800, 400);
    const outcome = applyFilters(event(8, Object.fromEntries(Array.from({ length: 8 }, (_, i) => [i, [still]]))), 2);
    assert.equal(keptCount(outcome.kept), 8);
    assert.deepEqual(outcome.indicators, []);
  });

  it('keeps a person walking: boxes do not overlap but stay within twice the diagonal', () => {
    // 100×250 boxes (diagonal ≈ 269 px) moving 300 px a frame.
    const outcome = applyFilters(event(6, { 1: [person(200, 400)], 2: [person(500, 400)], 3: [person(800, 400)] }), 2);
    assert.equal(keptCount(outcome.kept), 3);
  });

  it('drops two one-off people far apart in different frames', () => {
    const outcome = applyFilters(event(6, { 1: [person(0, 0)], 4: [person(1700, 800)] }), 2);
    assert.equal(keptCount(outcome.kept), 0);
    assert.deepEqual(
      outcome.removed.map((removal) => [removal.frameIndex, removal.filter]),
      [[1, 'filtered_not_persistent'], [4, 'filtered_not_persistent']],
    );
  });

  it('does not count a vehicle as the same person', () => {
    const outcome = applyFilters(event(6, { 1: [person(800, 400)], 2: [car(780, 400)] }), 2);
    assert.deepEqual(outcome.kept.flatMap((frame) => frame.detections.map((d) => d.category)), ['vehicle']);
  });

  it('does not require vehicles or weapons to persist by default', () => {
    const outcome = applyFilters(event(8, { 2: [car(100, 600)], 6: [knife(900, 500)] }), 2);
    assert.equal(keptCount(outcome.kept), 2);
  });

  it('runs after the score filter: a weak detection does not vouch for another', () => {
    const outcome = applyFilters(event(8, { 1: [person(800, 400, 0.2)], 2: [person(810, 400)] }), 2);
    assert.equal(keptCount(outcome.kept), 0);
    assert.deepEqual(outcome.indicators, ['filtered_low_score', 'filtered_not_persistent']);
  });

  it('matches boxes across frames of different resolutions', () => {
    const frames = event(6, { 1: [person(800, 400)] });
    const halfSizePerson = detection('person', [400, 200, 450, 325]);
    frames[2] = { frameIndex: 2, width: width / 2, height: height / 2, detections: [halfSizePerson] };
    assert.equal(keptCount(applyFilters(frames, 2).kept), 2);
  });

  it('follows the settings: 3 frames, and persistence for vehicles too', () => {
    const settings: FilterSettings = {
      ...defaultFilterSettings,
      minPersistenceFrames: 3,
      persistentCategories: ['person', 'vehicle'],
    };
    const twice = event(8, { 1: [person(800, 400), car(100, 600)], 2: [person(820, 400), car(110, 600)] });
    assert.equal(keptCount(applyFilters(twice, 2, { settings }).kept), 0);
    const thrice = event(8, { 1: [person(800, 400)], 2: [person(820, 400)], 3: [person(840, 400)] });
    assert.equal(keptCount(applyFilters(thrice, 2, { settings }).kept), 3);
  });
});

describe('applyFilters at sensitivity 2: outcome', () => {
  it('keeps every frame, in order, with its surviving detections', () => {
    const frames = event(4, { 0: [person(100, 100), person(900, 500, 0.1)], 3: [car(200, 600)] });
    const outcome = applyFilters(frames, 2);
    assert.deepEqual(outcome.kept.map((frame) => frame.frameIndex), [0, 1, 2, 3]);
    assert.deepEqual(outcome.kept[0]!.detections, [person(100, 100)]);
    assert.deepEqual(outcome.kept[3]!.detections, [car(200, 600)]);
  });

  it('names each filter that removed something, once, in vocabulary order', () => {
    const parked = car(1400, 80);
    const frames = event(8, {
      0: [person(100, 100), person(100, 100, 0.1), detection('weapon', [0, 0, width, height])],
      1: [person(110, 100), person(900, 100, 0.2), detection('vehicle', [5, 5, 10, 10])],
      2: [detection('person', [800, 300, 830, 600])],
      3: [detection('person', [600, 0, width, 500])],
      5: [person(1500, 800)],
    });
    for (const frame of frames) frame.detections.push(parked);
    const outcome = applyFilters(frames, 2);
    assert.deepEqual(outcome.indicators, filterIndicators.map(({ indicator }) => indicator));
    assert.equal(outcome.removed.length, 15);
    assert.equal(keptCount(outcome.kept), 2);
  });

  it('adds no indicators when nothing was removed', () => {
    assert.deepEqual(applyFilters(event(6, {}), 2), { kept: event(6, {}), removed: [], indicators: [] });
  });
});

describe('applyFilters at sensitivity 2: aspect ratio', () => {
  const cases: Array<[name: string, detection: Detection, removed: boolean]> = [
    ['a standing person (2.5 : 1)', person(800, 400), false],
    ['a person lying down (0.35 : 1)', detection('person', [800, 600, 1000, 670]), false],
    ['a pole taken for a person (10 : 1)', detection('person', [800, 300, 830, 600]), true],
    ['a kerb taken for a person (0.1 : 1)', detection('person', [600, 700, 1100, 750]), true],
    ['a thin person cut by the right edge (8 : 1)', detection('person', [width - 25, 400, width, 600]), false],
    ['a person cut by the top edge', detection('person', [800, 0, 1000, 40]), false],
    ['a car side-on (0.4 : 1)', detection('vehicle', [200, 600, 700, 800]), false],
    ['a bicycle head-on (2.5 : 1)', detection('vehicle', [900, 500, 960, 650]), false],
    ['a fence taken for a bus (0.1 : 1)', detection('vehicle', [100, 500, 1100, 600]), true],
    ['a knife upright (6 : 1)', detection('weapon', [500, 500, 510, 560]), false],
  ];
  for (const [name, candidate, removed] of cases) {
    it(`${name}: ${removed ? 'removed' : 'kept'}`, () => {
      const outcome = applyFilters(event(4, { 1: [candidate] }), 2);
      assert.deepEqual(outcome.indicators, removed ? ['filtered_aspect_ratio'] : []);
      assert.equal(keptCount(outcome.kept), removed ? 0 : 1);
    });
  }

  it('follows the settings, and a class set to null takes any shape', () => {
    const pole = detection('person', [800, 300, 830, 600]);
    const settings: FilterSettings = { ...defaultFilterSettings, aspectRatio: { ...defaultFilterSettings.aspectRatio, person: null } };
    assert.equal(keptCount(applyFilters(event(4, { 1: [pole] }), 2, { settings }).kept), 1);
  });
});

describe('applyFilters at sensitivity 2: lens obstruction', () => {
  // PicoDet-S on tree_hand_over_lens (320x240): a hand on the lens reported as a person, frame by frame.
  const handFrames = [
    [217.9, 0, 319.8, 167.1, 0.518],
    [212.3, 0, 320, 188.8, 0.536],
    [184.6, 0, 320, 204.8, 0.473],
    [150.6, 0, 320, 186.5, 0.658],
    [99.6, 0, 320, 165.1, 0.564],
  ] as const;
  const small = (detections: Detection[], frameIndex: number): FrameDetections => ({ frameIndex, width: 320, height: 240, detections });

  it('removes the measured hand-on-the-lens boxes, which reach the top and right edges', () => {
    const frames = handFrames.map(([x1, y1, x2, y2, score], index) => small([detection('person', [x1, y1, x2, y2], score)], index));
    const outcome = applyFilters([...frames, small([], 5), small([], 6), small([], 7)], 2);
    assert.equal(keptCount(outcome.kept), 0);
    assert.deepEqual(outcome.indicators, ['filtered_lens_obstruction']);
    assert.equal(outcome.removed.length, handFrames.length);
  });

  const cases: Array<[name: string, box: Box, removed: boolean]> = [
    ['a hand over the top-left corner', [0, 0, 900, 500], true],
    ['an insect across the top, from side to side', [0, 0, width, 400], true],
    ['a person close to the camera, cut by the bottom and a side', [1300, 300, width, height], false],
    ['a person right in front of the camera, cut by the top and the bottom', [700, 0, 1200, height], false],
    ['a large person cut by the top edge only', [700, 0, 1300, 800], false],
    ['a small box in the top-right corner', [1800, 0, width, 200], false],
  ];
  for (const [name, box, removed] of cases) {
    it(`${name}: ${removed ? 'removed' : 'kept'}`, () => {
      const outcome = applyFilters(event(4, { 1: [detection('person', box)] }), 2);
      assert.deepEqual(outcome.indicators, removed ? ['filtered_lens_obstruction'] : []);
    });
  }

  it('leaves vehicles alone: a lorry passing close fills the width', () => {
    const outcome = applyFilters(event(4, { 1: [detection('vehicle', [0, 0, width, 700])] }), 2);
    assert.equal(keptCount(outcome.kept), 1);
  });
});

describe('applyFilters at sensitivity 2: stationary vehicles', () => {
  // YOLOX-nano on pets2009_people_walking_a (768x576): a parked car and van, boxes as detected in frames 0–7.
  const pets = (detections: Detection[], frameIndex: number): FrameDetections => ({ frameIndex, width: 768, height: 576, detections });
  const parkedCar: Box[] = [
    [732, 51.6, 767.1, 94.4], [732.4, 51.6, 767.1, 94.6], [732.3, 51.6, 767.1, 94.5], [732.2, 51.6, 767.1, 94.5],
    [732.1, 51.5, 767.1, 94.4], [732.2, 51.4, 767.1, 94.8], [732.4, 51.3, 767.1, 94.7], [732, 51.3, 767.1, 94.6],
  ];
  const parkedVan: Box[] = [
    [651.8, 41.9, 726, 99.4], [651.8, 42.1, 726.3, 99.7], [651.9, 42.1, 726.1, 99.7], [652.3, 42.2, 725.4, 99.4],
    [652.4, 42.4, 724.6, 99.5], [651.4, 42.1, 725.3, 100.1], [652.1, 41.9, 725.9, 99.8], [652.2, 42, 725.2, 99.8],
  ];
  const walker = (index: number) => detection('person', [380 + 20 * index, 180, 410 + 20 * index, 260]);
  const petsEvent = () =>
    parkedCar.map((box, index) =>
      pets([detection('vehicle', box, 0.8), { ...detection('vehicle', parkedVan[index]!, 0.75), label: 'truck' }, walker(index)], index),
    );

  it('removes the parked car and van seen in every frame, and keeps the people', () => {
    const outcome = applyFilters(petsEvent(), 2);
    assert.deepEqual(outcome.indicators, ['filtered_stationary_vehicle']);
    assert.equal(outcome.removed.length, 16);
    assert.deepEqual([...new Set(outcome.kept.flatMap((frame) => frame.detections.map((d) => d.category)))], ['person']);
  });

  it('sets the parked car and van aside from the decision but still reports them as seen, in their frames', () => {
    const outcome = applyFilters(petsEvent(), 2);
    const seen = seenDetections(outcome);
    assert.deepEqual(seen.map((frame) => frame.frameIndex), [0, 1, 2, 3, 4, 5, 6, 7]);
    for (const [index, frame] of seen.entries()) {
      assert.deepEqual(frame.detections.map((d) => d.label).sort(), ['car', 'person', 'truck'], `frame ${index}`);
      assert.deepEqual(frame.detections.find((d) => d.label === 'car')?.box, parkedCar[index]);
    }
    assert.deepEqual(relevanceFilters, ['filtered_stationary_vehicle']);
  });

  it('reports as seen only what a relevance filter set aside, never what another filter found not to be there', () => {
    // A weak car: removed as a false detection, in no frame of what was seen.
    const frames = petsEvent().map((frame) => ({ ...frame, detections: [...frame.detections, detection('vehicle', [10, 300, 200, 400], 0.1)] }));
    const outcome = applyFilters(frames, 2);
    assert.ok(outcome.removed.some((removal) => removal.filter === 'filtered_low_score'));
    const seen = seenDetections(outcome);
    assert.ok(seen.every((frame) => frame.detections.every((d) => d.score > 0.1)), 'the weak car is not seen');
    assert.equal(seen.flatMap((frame) => frame.detections).length, 24, 'car, van and person in each of 8 frames');
    assert.deepEqual(seenDetections(applyFilters(frames, 1)), applyFilters(frames, 1).kept, 'sensitivity 1 removes nothing');
  });

  it('counts a frame where the parked car scored too low: it was still there', () => {
    const frames = petsEvent();
    frames[3]!.detections[0] = { ...frames[3]!.detections[0]!, score: 0.3 };
    const outcome = applyFilters(frames, 2);
    assert.equal(outcome.kept.flatMap((frame) => frame.detections).filter((d) => d.category === 'vehicle').length, 0);
    assert.deepEqual(outcome.indicators, ['filtered_low_score', 'filtered_stationary_vehicle']);
  });

  it('keeps a vehicle that moves, or that leaves or arrives during the event', () => {
    const frames = petsEvent();
    frames[7]!.detections.splice(0, 1);
    frames[0]!.detections.splice(0, 1);
    frames.forEach((frame, index) => frame.detections.push(detection('vehicle', [100 + 40 * index, 300, 250 + 40 * index, 380])));
    const vehicles = applyFilters(frames, 2).kept.flatMap((frame) => frame.detections).filter((d) => d.category === 'vehicle');
    assert.equal(vehicles.filter((d) => d.box[0] > 700).length, 6, 'the car, gone in the last frame, counts');
    assert.equal(vehicles.filter((d) => d.box[0] < 700 && d.box[1] > 200).length, 8, 'the moving car counts');
    assert.equal(vehicles.filter((d) => d.label === 'truck').length, 0, 'the van, there throughout, does not');

    const leaving = petsEvent();
    leaving[7]!.detections.splice(0, 1);
    const left = applyFilters(leaving, 2).kept.flatMap((frame) => frame.detections).filter((d) => d.category === 'vehicle' && d.box[0] > 700);
    assert.equal(left.length, 7, 'a car there until the last frame has left');
  });

  it('removes a parked car the detector misses in some frames between the first and the last', () => {
    const frames = petsEvent();
    for (const index of [2, 3, 5]) frames[index]!.detections.splice(0, 1);
    const outcome = applyFilters(frames, 2);
    assert.equal(outcome.kept.flatMap((frame) => frame.detections).filter((d) => d.category === 'vehicle').length, 0);
    assert.deepEqual(outcome.indicators, ['filtered_stationary_vehicle']);

    const mostlyMissed = petsEvent();
    for (const index of [1, 2, 3, 4, 5]) mostlyMissed[index]!.detections.splice(0, 1);
    const seenThrice = applyFilters(mostlyMissed, 2).kept.flatMap((frame) => frame.detections).filter((d) => d.box[0] > 700);
    assert.equal(seenThrice.length, 3, 'in 3 of 8 frames is too little to call it parked');
  });

  it('never removes a person for standing in the same place in every frame', () => {
    const sign = detection('person', [30.5, 109.4, 47.9, 141.8], 0.5);
    const outcome = applyFilters(parkedCar.map((_, index) => pets([sign], index)), 2);
    assert.equal(keptCount(outcome.kept), 8);
  });

  describe("matching the camera's previous event", () => {
    const previousEvent = [pets([detection('vehicle', [732, 51.6, 767.1, 94.4])], 0)];
    const once = (box: Box) => parkedCar.map((_, index) => pets(index === 2 ? [detection('vehicle', box)] : [], index));
    const kept = (box: Box, previous = previousEvent) =>
      keptCount(applyFilters(once(box), 2, { previousEvent: previous }).kept);

    it('removes a vehicle in the same place with an area within 5 %', () => {
      const outcome = applyFilters(once([732.5, 52, 767, 94.5]), 2, { previousEvent });
      assert.deepEqual(outcome.indicators, ['filtered_stationary_vehicle']);
      assert.equal(keptCount(outcome.kept), 0);
    });

    it('keeps a vehicle whose area differs by more than 5 %', () => assert.equal(kept([732, 51.6, 767.1, 97]), 1));
    it('keeps a vehicle of the same size elsewhere', () => assert.equal(kept([600, 51.6, 635.1, 94.4]), 1));
    it('keeps every vehicle when the camera has no previous event', () => assert.equal(kept([732, 51.6, 767.1, 94.4], []), 1));

    it('compares frames of different resolutions in proportion', () => {
      const halfSize = [{ frameIndex: 0, width: 384, height: 288, detections: [detection('vehicle', [366, 25.8, 383.55, 47.2])] }];
      assert.equal(kept([732, 51.6, 767.1, 94.4], halfSize), 0);
    });

    it('looks at vehicles only', () => {
      const previous = [pets([detection('person', [732, 51.6, 767.1, 94.4])], 0)];
      assert.equal(kept([732, 51.6, 767.1, 94.4], previous), 1);
    });
  });
});

describe('filter settings per site category and from the configuration', () => {
  it('uses the defaults for a category without its own', () => {
    assert.deepEqual(filterSettingsFor('retail'), defaultFilterSettings);
    assert.deepEqual(filterSettingsFor(undefined), defaultFilterSettings);
    assert.deepEqual(filterSettingsFor('no_such_category'), defaultFilterSettings);
  });

  it("applies a category's own defaults over the general ones", () => {
    const residence = filterSettingsFor('residence');
    assert.deepEqual(residence.minScore, { person: 0.3, vehicle: 0.4, weapon: 0.55 });
    assert.deepEqual(filterSettingsFor('construction').stationaryVehicle, siteCategoryFilterDefaults.construction!.stationaryVehicle);
    assert.deepEqual(filterSettingsFor('construction').minScore, defaultFilterSettings.minScore);
  });

  it('a weaker person counts at a home, not at a shop', () => {
    const faint = event(4, { 1: [person(800, 400, 0.32)] });
    assert.equal(keptCount(applyFilters(faint, 2, { settings: filterSettingsFor('residence') }).kept), 1);
    assert.equal(keptCount(applyFilters(faint, 2, { settings: filterSettingsFor('retail') }).kept), 0);
  });

  it('applies the overrides for every site, then those for the category, value by value', () => {
    const overrides = filterOverridesSchema.parse({
      all: { minScore: { vehicle: 0.5 }, quality: { lensBlocked: { minShare: 0.4 } } },
      residence: { minScore: { person: 0.25 }, disabled: ['filtered_stationary_vehicle'] },
    });
    const residence = filterSettingsFor('residence', overrides);
    assert.deepEqual(residence.minScore, { person: 0.25, vehicle: 0.5, weapon: 0.55 });
    assert.equal(residence.quality.lensBlocked.minShare, 0.4);
    assert.equal(residence.quality.lensBlocked.cellsAcross, defaultFilterSettings.quality.lensBlocked.cellsAcross);
    assert.deepEqual(residence.disabled, ['filtered_stationary_vehicle']);
    assert.deepEqual(filterSettingsFor('retail', overrides).minScore, { person: 0.35, vehicle: 0.5, weapon: 0.55 });
    assert.deepEqual(filterSettingsFor('retail', overrides).disabled, []);
  });

  it('skips a disabled filter', () => {
    const parked = car(1400, 80);
    const frames = event(4, { 0: [parked], 1: [parked], 2: [parked], 3: [parked] });
    const settings = filterSettingsFor('retail', { all: { disabled: ['filtered_stationary_vehicle'] } });
    assert.equal(keptCount(applyFilters(frames, 2).kept), 0);
    assert.equal(keptCount(applyFilters(frames, 2, { settings }).kept), 4);
  });

  it('refuses unknown categories, unknown settings and values out of range', () => {
    for (const invalid of [
      { shop: {} },
      { all: { minScore: { cat: 0.5 } } },
      { all: { minScore: { person: 1.5 } } },
      { all: { aspectRatio: { person: { min: 4, max: 1 } } } },
      { all: { disabled: ['filtered_everything'] } },
      { all: { minPersistenceFrames: 0 } },
    ]) {
      assert.equal(filterOverridesSchema.safeParse(invalid).success, false, JSON.stringify(invalid));
    }
  });
});
