import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { familyEvidence, imageTags } from '../../domain/image-tags.js';
import type { ImageSignals } from '../../workflows/contracts/image-batch-analysis.js';

const signals = (fields: Partial<ImageSignals>): ImageSignals => ({ objects: [], groups: [], lowLight: false, ...fields });
const tagNames = (s: ImageSignals, min = 0.3) => imageTags(s, min).map((t) => t.tag);

describe('image tags', () => {
  it('gathers each family\'s evidence: the best detector score and the summed classifier groups', () => {
    const evidence = familyEvidence(
      signals({
        objects: [
          { label: 'car', score: 0.8 },
          { label: 'truck', score: 0.6 },
          { label: 'dog', score: 0.4 },
        ],
        groups: [
          { group: 'dog', probability: 0.5 },
          { group: 'wolf_fox_wild_dog', probability: 0.2 },
          { group: 'road_vehicle', probability: 0.1 },
          { group: 'spider', probability: 0.3 },
        ],
      }),
    );
    assert.deepEqual(evidence.vehicle, { detector: 0.8, classifier: 0.1 });
    assert.equal(evidence.animal.detector, 0.4);
    assert.ok(Math.abs(evidence.animal.classifier - 0.7) < 1e-9);
    assert.deepEqual(evidence.person, { detector: 0, classifier: 0 });
  });

  it('a confident person is a likely person tag; nothing seen gives no tag', () => {
    const [person] = imageTags(signals({ objects: [{ label: 'person', score: 0.85 }] }), 0.3);
    assert.equal(person?.tag, 'person');
    assert.ok(person!.probability > 0.9);
    assert.deepEqual(imageTags(signals({}), 0.3), []);
  });

  it('calibrated: a weak person score is less likely than a strong one, and probabilities rise with the score', () => {
    const at = (score: number) => imageTags(signals({ objects: [{ label: 'person', score }] }), 0).find((t) => t.tag === 'person')!.probability;
    assert.ok(at(0.1) < at(0.3) && at(0.3) < at(0.6) && at(0.6) < at(0.9));
    assert.ok(at(0.05) < 0.5, String(at(0.05)));
  });

  it('a kind needs the detector\'s alarm threshold; ImageNet kinds keep their group probability', () => {
    assert.ok(!tagNames(signals({ objects: [{ label: 'truck', score: 0.2 }] }), 0).includes('truck'));
    assert.ok(tagNames(signals({ objects: [{ label: 'truck', score: 0.6 }] })).includes('truck'));
    const spider = imageTags(signals({ groups: [{ group: 'spider', probability: 0.62 }] }), 0.3);
    assert.deepEqual(spider, [{ tag: 'spider', probability: 0.62, is_critical: false }]);
  });

  it('a person in low light and a weapon are critical; a person in daylight is not', () => {
    const night = imageTags(signals({ objects: [{ label: 'person', score: 0.8 }], lowLight: true }), 0.3);
    assert.equal(night.find((t) => t.tag === 'person')?.is_critical, true);
    const day = imageTags(signals({ objects: [{ label: 'person', score: 0.8 }] }), 0.3);
    assert.equal(day.find((t) => t.tag === 'person')?.is_critical, false);
    const knife = imageTags(signals({ objects: [{ label: 'knife', score: 0.7 }] }), 0.3);
    assert.deepEqual(knife.find((t) => t.tag === 'weapon'), { tag: 'weapon', probability: 0.7, is_critical: true });
    assert.ok(!tagNames(signals({ objects: [{ label: 'knife', score: 0.45 }] })).includes('weapon'));
  });

  it('leaves out tags under the minimum and sorts the rest, most probable first', () => {
    const tags = imageTags(signals({ groups: [{ group: 'plant_container', probability: 0.35 }, { group: 'umbrella', probability: 0.8 }, { group: 'fungus', probability: 0.1 }] }), 0.3);
    assert.deepEqual(tags.map((t) => t.tag), ['umbrella', 'plant_pot']);
  });
});
