import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CHIP_LANDMARKS, similarityTransform } from '../../domain/faces/align.js';
import { matchAllowlist } from '../../domain/faces/allowlist-match.js';
import { clusterPeople, personConstellationScenes, type ClusterFace } from '../../domain/faces/cluster.js';
import { meanSaturation } from '../../domain/faces/pixels.js';
import { bestThreshold, leaveOnePersonOutAccuracy, leaveOnePersonOutPairAccuracy, pairDistances, rankOneAccuracy, verificationAccuracy } from '../../domain/faces/verification.js';
import type { Box } from '../../domain/types.js';

/** A deterministic unit vector per seed, and one near it. */
function direction(seed: number): number[] {
  const v = Array.from({ length: 1024 }, (_, i) => Math.sin(seed * 97.13 + i * 12.9898) * 43758.5453 % 1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}
function near(base: number[], seed: number, distance: number): number[] {
  const noise = direction(seed + 1000);
  return base.map((x, i) => x + noise[i]! * distance);
}

const alice = direction(1);
const bob = direction(2);
const face = (time: number, descriptor: number[] | undefined, extra: Partial<ClusterFace> = {}): ClusterFace => ({
  time,
  box: [100, 100, 160, 170] as Box,
  frameWidth: 640,
  frameHeight: 480,
  score: 0.9,
  age: 30,
  gender: 'female',
  ...(descriptor ? { descriptor } : {}),
  thumbnail: new Uint8Array([0xff, 0xd8, time]),
  ...extra,
});

describe('faces clustered into people', () => {
  it('groups one person over frames apart from another, most prominent first', () => {
    const faces = [
      face(0, near(alice, 1, 0.15)),
      face(0.5, near(alice, 2, 0.15)),
      face(1, near(alice, 3, 0.15), { age: 34 }),
      face(1, near(bob, 4, 0.15), { gender: 'male', age: 50, box: [300, 100, 330, 135] }),
    ];
    const people = clusterPeople(faces, { faceAnalysis: true });
    assert.equal(people.length, 2);
    const [first, second] = people;
    assert.equal(first!.gender, 'female');
    assert.equal(first!.age, 30);
    assert.equal(first!.relative_prominence, 1);
    assert.equal(second!.gender, 'male');
    assert.ok(second!.relative_prominence > 0 && second!.relative_prominence < 1);
    assert.equal(first!.face_embedding!.length, 1024);
    assert.ok(Math.hypot(...first!.face_embedding!.map((x, i) => x - alice[i]!)) < 0.15);
    assert.equal(first!.face_thumbnail, Buffer.from([0xff, 0xd8, 0]).toString('base64'));
    assert.equal(first!.allowlisted, false);
  });

  it('never puts two faces of one frame in one person', () => {
    const people = clusterPeople([face(0, near(alice, 1, 0.05)), face(0, near(alice, 2, 0.05))], { faceAnalysis: true });
    assert.equal(people.length, 2);
  });

  it('marks people matching the allowlist', () => {
    const people = clusterPeople([face(0, near(alice, 1, 0.1)), face(0, near(bob, 2, 0.1), { gender: 'male' })], {
      faceAnalysis: true,
      allowlist: [{ entryId: 'e1', descriptor: near(bob, 9, 0.1) }],
    });
    assert.deepEqual(people.map((p) => [p.gender, p.allowlisted]).sort(), [['female', false], ['male', true]]);
  });

  it('with face analysis off, gives no embedding, thumbnail or allowlist match', () => {
    const withoutDescriptors = clusterPeople([face(0, undefined), face(0, undefined), face(1, undefined)], { faceAnalysis: false, allowlist: [{ entryId: 'e1', descriptor: alice }] });
    assert.equal(withoutDescriptors.length, 2);
    for (const person of withoutDescriptors) {
      assert.deepEqual(Object.keys(person).sort(), ['age', 'allowlisted', 'gender', 'relative_prominence']);
      assert.equal(person.allowlisted, false);
    }
  });

  it('calls a person unidentified when their faces disagree or none has a gender', () => {
    const people = clusterPeople([face(0, near(alice, 1, 0.1), { gender: 'male' }), face(1, near(alice, 2, 0.1))], { faceAnalysis: true });
    assert.equal(people[0]!.gender, 'unidentified');
    assert.equal(clusterPeople([face(0, alice, { gender: 'unidentified' })], { faceAnalysis: true })[0]!.gender, 'unidentified');
  });

  it('lists per scene the people seen in it, with the same embedding in every scene', () => {
    const faces = [face(0, near(alice, 1, 0.1)), face(4, near(alice, 2, 0.1)), face(4.5, near(bob, 3, 0.1), { gender: 'male' })];
    const scenes = personConstellationScenes(
      [
        { start_seconds: 0, end_seconds: 3 },
        { start_seconds: 3, end_seconds: 5 },
        { start_seconds: 5, end_seconds: 6 },
      ],
      faces,
      { faceAnalysis: true },
    );
    assert.deepEqual(scenes.map((scene) => scene.person_ids.length), [1, 2, 0]);
    const aliceFirst = scenes[0]!.person_ids[0]!;
    const aliceSecond = scenes[1]!.person_ids.find((p) => p.gender === 'female')!;
    assert.deepEqual(aliceFirst.face_embedding, aliceSecond.face_embedding);
  });

  it('without descriptors, counts each scene\'s people from its busiest frame', () => {
    const faces = [face(0, undefined), face(1, undefined), face(1, undefined), face(4, undefined)];
    const scenes = personConstellationScenes(
      [
        { start_seconds: 0, end_seconds: 3 },
        { start_seconds: 3, end_seconds: 5 },
        { start_seconds: 5, end_seconds: 6 },
      ],
      faces,
      { faceAnalysis: false },
    );
    assert.deepEqual(scenes.map((scene) => scene.person_ids.length), [2, 1, 0]);
    assert.ok(scenes.flatMap((scene) => scene.person_ids).every((person) => !person.face_embedding && !person.face_thumbnail));
  });
});

describe('face geometry and measures', () => {
  it('maps landmarks onto the chip by rotation, scale and shift', () => {
    // The chip's own points, turned 90 degrees, halved and moved: the transform finds its way back.
    const moved = CHIP_LANDMARKS.map(([x, y]) => [10 + -y / 2, 20 + x / 2] as [number, number]);
    const { a, b, tx, ty } = similarityTransform(moved, CHIP_LANDMARKS);
    for (const [i, [x, y]] of moved.entries()) {
      assert.ok(Math.abs(a * x - b * y + tx - CHIP_LANDMARKS[i]![0]) < 1e-6);
      assert.ok(Math.abs(b * x + a * y + ty - CHIP_LANDMARKS[i]![1]) < 1e-6);
    }
  });

  it('tells grey pixels from coloured ones', () => {
    assert.equal(meanSaturation({ width: 2, height: 1, data: new Uint8Array([90, 90, 90, 200, 200, 200]) }), 0);
    assert.ok(meanSaturation({ width: 1, height: 1, data: new Uint8Array([200, 150, 120]) }) > 0.3);
  });

  it('measures verification and identification', () => {
    const faces = [
      { identity: 'a', descriptor: near(alice, 1, 0.1) },
      { identity: 'a', descriptor: near(alice, 2, 0.1) },
      { identity: 'b', descriptor: near(bob, 3, 0.1) },
    ];
    const pairs = pairDistances(faces);
    assert.equal(pairs.length, 3);
    assert.equal(verificationAccuracy(pairs, 0.5), 1);
    assert.equal(bestThreshold(pairs).accuracy, 1);
    // b has no other face to be found by.
    assert.equal(rankOneAccuracy(faces), 2 / 3);
    assert.equal(matchAllowlist(alice, [{ entryId: 'x', descriptor: bob }]), null);
  });

  it('judges each person with a threshold chosen without them', () => {
    const people = [alice, bob, direction(5)].flatMap((base, person) => [1, 2].map((k) => ({ identity: `p${person}`, descriptor: near(base, 10 * person + k, 0.1) })));
    const tight = leaveOnePersonOutAccuracy(people);
    assert.equal(tight.accuracy, 1);
    assert.equal(tight.thresholds.length, 3);
    // The third person's two photos lie further apart than the others' threshold allows.
    const spread = [...people.slice(0, 5), { identity: 'p2', descriptor: near(direction(5), 99, 1.2) }];
    assert.ok(leaveOnePersonOutAccuracy(spread).accuracy < 1);
    // From pairs alone (distances of any scale, e.g. two descriptors' combined): the same judgements.
    const doubled = pairDistances(spread).map((pair) => ({ ...pair, distance: 2 * pair.distance }));
    const fromPairs = leaveOnePersonOutPairAccuracy(doubled);
    const fromFaces = leaveOnePersonOutAccuracy(spread);
    assert.equal(fromPairs.accuracy, fromFaces.accuracy);
    assert.deepEqual(fromPairs.thresholds, fromFaces.thresholds.map((t) => 2 * t));
  });
});
