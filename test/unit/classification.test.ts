import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flickerOf, motionSignals } from '../../domain/classification/motion-signals.js';
import { defaultRiskThresholds, labelsOf, riskOf, thresholdsFor } from '../../domain/classification/risk.js';
import { expectedFrames, processedSpecs, regionCrop, samplingPlan, spreadOver } from '../../domain/classification/sampling.js';
import { classificationClasses, classifyClip, type ClassificationInput, type ClassificationScores } from '../../domain/classification/scores.js';
import type { GreyFrame } from '../../domain/motion.js';
import type { Detection, FrameDetections } from '../../domain/types.js';

const width = 96;
const height = 64;

/** A textured background; `paint` may change any pixel. */
function frame(paint: (x: number, y: number, base: number) => number = (_x, _y, base) => base): GreyFrame {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = Math.min(255, Math.max(0, paint(x, y, 60 + ((x * 7 + y * 13) % 40))));
  }
  return { width, height, data };
}

/** A bright 12×24 body walking right, 10 px per frame. */
const walker = (step: number) => frame((x, y, base) => (x >= 10 + step * 10 && x < 22 + step * 10 && y >= 30 && y < 54 ? 230 : base));
/** Leaves flicker in place: a fixed patchwork of cells over the upper half, half of them lit in turn. */
const foliage = (step: number) => frame((x, y, base) => (y < 32 && ((Math.floor(x / 4) + Math.floor(y / 4) + step) % 2 === 0) ? base + 60 : base));
/** Faint streaks everywhere, placed differently each frame. */
const rain = (step: number) => frame((x, y, base) => (((x * 31 + y * 17 + step * 53) % 23) === 0 ? base + 40 : base));

const still = () => Array.from({ length: 6 }, () => frame());

function person(x: number, score = 0.8): Detection {
  return { category: 'person', label: 'person', score, box: [x, 200, x + 60, 360] };
}

function framesWith(perFrame: (index: number) => Detection[], count = 6): FrameDetections[] {
  return Array.from({ length: count }, (_, frameIndex) => ({ frameIndex, width: 640, height: 480, detections: perFrame(frameIndex) }));
}

function input(overrides: Partial<ClassificationInput> = {}): ClassificationInput {
  return {
    frameCount: 6,
    detections: framesWith(() => []),
    motion: motionSignals(still()),
    classifier: null,
    text: null,
    clipTime: '2026-12-02 14:00:00',
    ...overrides,
  };
}

describe('motionSignals', () => {
  it('finds nothing in still frames', () => {
    const signals = motionSignals(still());
    assert.equal(signals.hasMotion, false);
    assert.equal(signals.spread, 0);
    assert.equal(signals.hotRegion, null);
  });

  it('sees a walker as compact change that moves on', () => {
    const signals = motionSignals(Array.from({ length: 6 }, (_, i) => walker(i)));
    assert.equal(signals.hasMotion, true);
    assert.ok(signals.concentration >= 0.5, `concentration ${signals.concentration}`);
    assert.ok(signals.spread < 0.25, `spread ${signals.spread}`);
    assert.ok(signals.hotRegion && signals.hotRegion.y >= 0.375, 'the hot region is where the body walks');
  });

  it('sees foliage as spread change that stays in place', () => {
    const signals = motionSignals(Array.from({ length: 6 }, (_, i) => foliage(i)));
    assert.ok(signals.steadiness > 0.9, `steadiness ${signals.steadiness}`);
    assert.ok(signals.spread >= 0.4, `spread ${signals.spread}`);
    assert.ok(signals.concentration < 0.3, `concentration ${signals.concentration}`);
  });

  it('measures flicker where change goes one way and back, and none in still frames', () => {
    assert.equal(motionSignals(still()).flicker, 0);
    // Leaves a few grey levels apart, under the motion threshold: the motion statistics see nothing, flicker does.
    const faintLeaves = Array.from({ length: 6 }, (_, i) => frame((x, y, base) => (y < 32 && ((Math.floor(x / 4) + Math.floor(y / 4) + i) % 2 === 0) ? base + 12 : base)));
    const signals = motionSignals(faintLeaves);
    assert.equal(signals.hasMotion, false);
    assert.equal(signals.flicker, 0.5, 'the upper half of the grid');
    assert.equal(flickerOf(faintLeaves, 15), 0, 'change under the noise threshold is no flicker');
    assert.equal(flickerOf(faintLeaves.slice(0, 2)), 0, 'two frames cannot go and come back');
  });

  it('sees rain as faint, sparse change over the whole frame', () => {
    const signals = motionSignals(Array.from({ length: 6 }, (_, i) => rain(i)));
    assert.ok(signals.spread > 0.8, `spread ${signals.spread}`);
    assert.ok(signals.faintness > 0.9, `faintness ${signals.faintness}`);
    assert.ok(signals.density < 0.15, `density ${signals.density}`);
  });
});

describe('classifyClip', () => {
  it('gives exactly the 13 classes, each in 0–1', () => {
    const { scores } = classifyClip(input());
    assert.deepEqual(Object.keys(scores).sort(), [...classificationClasses].sort());
    for (const value of Object.values(scores)) assert.ok(value >= 0 && value <= 1);
  });

  it('scores NOTHING when nothing moves and nothing is found', () => {
    const { scores } = classifyClip(input());
    assert.equal(scores.NOTHING, 1);
    assert.equal(scores.intrusion, 0);
    assert.equal(riskOf(scores.intrusion, defaultRiskThresholds), 'safe');
  });

  it('makes a person walking through every frame an intrusion, by the alarm rules', () => {
    const result = classifyClip(
      input({ detections: framesWith((i) => [person(100 + i * 30)]), motion: motionSignals(Array.from({ length: 6 }, (_, i) => walker(i))) }),
    );
    assert.equal(result.decision.decision, 'Yes');
    assert.ok(result.decision.indicators.includes('person_after_hours'));
    assert.ok(result.scores.person > 0.9, `person ${result.scores.person}`);
    assert.ok(result.scores.intrusion >= 0.8);
    assert.equal(riskOf(result.scores.intrusion, defaultRiskThresholds), 'intrusion');
    assert.ok(result.scores.NOTHING < 0.1);
  });

  it('drops a one-frame person as the alarm filters do: not an intrusion', () => {
    const result = classifyClip(input({ detections: framesWith((i) => (i === 2 ? [person(100, 0.5)] : [])) }));
    assert.ok(result.filters.indicators.includes('filtered_not_persistent'));
    assert.equal(result.scores.person, 0);
    assert.equal(riskOf(result.scores.intrusion, defaultRiskThresholds), 'safe');
  });

  it('drops a hand on the lens (lens-obstruction filter)', () => {
    const hand: Detection = { category: 'person', label: 'person', score: 0.7, box: [0, 0, 500, 300] };
    const result = classifyClip(input({ detections: framesWith(() => [hand]), motion: motionSignals(Array.from({ length: 6 }, (_, i) => walker(i))) }));
    assert.ok(result.filters.indicators.includes('filtered_lens_obstruction'));
    assert.equal(riskOf(result.scores.intrusion, defaultRiskThresholds), 'safe');
    assert.ok(result.scores.other > 0.5, 'motion nothing explains is other');
  });

  it('counts a parked car as a vehicle but not as an intrusion', () => {
    const car: Detection = { category: 'vehicle', label: 'car', score: 0.8, box: [300, 300, 450, 400] };
    const { scores } = classifyClip(input({ detections: framesWith(() => [car]) }));
    assert.ok(scores.vehicule > 0.9);
    assert.equal(riskOf(scores.intrusion, defaultRiskThresholds), 'safe');
  });

  it('scores wind for swaying foliage with nothing else, more with the classifier seeing plants', () => {
    const motion = motionSignals(Array.from({ length: 6 }, (_, i) => foliage(i)));
    const bare = classifyClip(input({ motion })).scores;
    const withPlants = classifyClip(input({ motion, classifier: { plant: 0.9 } })).scores;
    assert.ok(bare.wind >= 0.5, `wind ${bare.wind}`);
    assert.ok(withPlants.wind > classifyClip(input({ motion, classifier: { plant: 0 } })).scores.wind);
    assert.equal(withPlants.plant, 0.9);
    assert.ok(bare.wind > bare.rain);
    assert.equal(riskOf(bare.intrusion, defaultRiskThresholds), 'safe');
  });

  it('scores wind for foliage flickering under the motion threshold, and no NOTHING', () => {
    const flickering = (fields: Partial<ClassificationInput>) =>
      classifyClip(input({ motion: { ...motionSignals(still()), flicker: 0.6 }, ...fields })).scores;
    const leaves = flickering({});
    assert.ok(leaves.wind >= 0.8, `wind ${leaves.wind}`);
    assert.ok(leaves.NOTHING <= 0.2, `NOTHING ${leaves.NOTHING}`);
    assert.equal(riskOf(leaves.intrusion, defaultRiskThresholds), 'safe');
    const withPerson = flickering({ detections: framesWith((i) => [person(100 + i * 30)]) }).wind;
    assert.ok(withPerson < 0.05, `a person found: what flickers is the person (wind ${withPerson})`);
    const wholesale = classifyClip(input({ motion: { ...motionSignals(still()), flicker: 0.6, peakActivity: 0.3 } })).scores;
    assert.equal(wholesale.wind, 0, 'a hand on the lens changes the picture wholesale');
    const { flicker: _measured, ...before } = motionSignals(still());
    assert.equal(classifyClip(input({ motion: before })).scores.wind, 0, 'motion measured without flicker has none');
  });

  it('scores rain for faint change everywhere', () => {
    const { scores } = classifyClip(input({ motion: motionSignals(Array.from({ length: 6 }, (_, i) => rain(i))) }));
    assert.ok(scores.rain > scores.wind, `rain ${scores.rain}, wind ${scores.wind}`);
    assert.ok(scores.rain >= 0.5, `rain ${scores.rain}`);
  });

  it('passes the classifier and text evidence through, and text is 0 without a text detector', () => {
    const { scores } = classifyClip(input({ classifier: { spider: 0.7, web: 0.6, flag: 0.2, animal: 0.1 }, text: null }));
    assert.deepEqual([scores.spider, scores.web, scores.flag, scores.animal, scores.text], [0.7, 0.6, 0.2, 0.1, 0]);
    assert.equal(classifyClip(input({ text: 0.8 })).scores.text, 0.8);
  });
});

describe('sampling', () => {
  it('samples at the configured rate, fewer a second for a long clip, scaled down to an even size', () => {
    const sampling = { fps: 3, width: 640, maxFrames: 60 };
    assert.deepEqual(samplingPlan({ width: 768, height: 576, durationS: 4 }, sampling), { fps: 3, width: 640, height: 480 });
    assert.deepEqual(samplingPlan({ width: 320, height: 240, durationS: 40 }, sampling), { fps: 1.5, width: 320, height: 240 });
    assert.deepEqual(processedSpecs({ fps: 3, width: 640, height: 480 }, 12), { width: 640, height: 480, fps: 3, nframes: 12, duration: 4 });
  });

  it('expects the frames the rate gives over the clip, at most the configured number', () => {
    const sampling = { fps: 3, width: 640, maxFrames: 60 };
    const expected = (durationS: number) => expectedFrames({ durationS }, samplingPlan({ width: 640, height: 480, durationS }, sampling), sampling);
    assert.deepEqual([expected(4), expected(4.2), expected(3.88), expected(0.1), expected(79.5)], [12, 13, 12, 1, 60]);
  });

  it('spreads the classifier frames from first to last, and crops a small busy region with a margin', () => {
    assert.deepEqual(spreadOver([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 6), [0, 2, 4, 7, 9, 11]);
    assert.deepEqual(spreadOver([0, 1], 6), [0, 1]);
    assert.deepEqual(regionCrop({ x: 0.5, y: 0.5, width: 0.25, height: 0.25 }, 640, 480), { left: 281, top: 211, width: 238, height: 178 });
    assert.equal(regionCrop({ x: 0, y: 0, width: 1, height: 0.75 }, 640, 480), null, 'most of the frame');
    assert.equal(regionCrop(null, 640, 480), null);
  });
});

describe('risk and labels', () => {
  it('splits at low and high', () => {
    assert.equal(riskOf(0.19, defaultRiskThresholds), 'safe');
    assert.equal(riskOf(0.2, defaultRiskThresholds), 'danger');
    assert.equal(riskOf(0.79, defaultRiskThresholds), 'danger');
    assert.equal(riskOf(0.8, defaultRiskThresholds), 'intrusion');
    assert.equal(riskOf(0.5, { low: 0.1, high: 0.4 }), 'intrusion');
  });

  it('takes the camera thresholds over the account and the account over the defaults', () => {
    const account = { low: 0.3, high: 0.9 };
    const camera = { low: 0.1, high: 0.5 };
    assert.deepEqual(thresholdsFor(undefined, undefined), defaultRiskThresholds);
    assert.deepEqual(thresholdsFor(account, undefined), account);
    assert.deepEqual(thresholdsFor(account, camera), camera);
  });

  it('labels the classes at or above 0.5, highest first', () => {
    const scores = Object.fromEntries(classificationClasses.map((name) => [name, 0])) as ClassificationScores;
    Object.assign(scores, { person: 0.9, intrusion: 0.95, vehicule: 0.5, other: 0.49 });
    assert.deepEqual(labelsOf(scores), ['intrusion', 'person', 'vehicule']);
  });
});

describe('classifier and text evidence', () => {
  it('takes per class the most probable image, summing its groups', async () => {
    const { classifierEvidence } = await import('../../domain/classification/evidence.js');
    const evidence = classifierEvidence([
      { groups: [{ group: 'dog', probability: 0.3 }, { group: 'domestic_cat', probability: 0.25 }, { group: 'spider_web', probability: 0.1 }] },
      { groups: [{ group: 'spider_web', probability: 0.6 }, { group: 'flower_or_plant', probability: 0.2 }] },
    ]);
    // Above chance: web 1 class of 1000, plants 17, animals 336.
    assert.deepEqual(evidence, { spider: 0, web: 0.5996, flag: 0, plant: 0.1862, animal: 0.3223 });
    const blurred = classifierEvidence([{ groups: [{ group: 'bird', probability: 0.2 }, { group: 'dog', probability: 0.12 }] }]);
    assert.equal(blurred.animal, 0, 'animal mass no higher than chance is no animal');
    assert.deepEqual(classifierEvidence([]), { spider: 0, web: 0, flag: 0, plant: 0, animal: 0 });
  });

  it('counts text lines of 3 characters or more', async () => {
    const { textEvidence } = await import('../../domain/classification/evidence.js');
    assert.equal(textEvidence([{ text: 'I', confidence: 0.99 }, { text: '2026-12-02 14:03', confidence: 0.87 }]), 0.87);
    assert.equal(textEvidence([{ text: 'a b', confidence: 0.9 }]), 0);
    assert.equal(textEvidence([]), 0);
  });
});
