import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { alignedChip, CHIP_SIZE } from '../../domain/faces/align.js';
import { DESCRIPTOR_LENGTH, openFaceModels, type FaceModels } from '../../gpu-worker/face-models.js';
import { createFaceAnalyser } from '../../gpu-worker/faces.js';
import { convertTfjsGraph } from '../../gpu-worker/tfjs-to-onnx.js';
import { decodeToRgb } from '../../media/image.js';
import { fixturesDir, modelsDir } from '../support/paths.js';

async function chipOf(file: string): Promise<Uint8Array> {
  const analyser = await createFaceAnalyser({ modelsDir, device: { kind: 'cpu' }, intraOpThreads: 1 });
  try {
    const image = await decodeToRgb(await readFile(path.join(fixturesDir, 'faces', file)));
    const { faces } = await analyser.detect(image);
    assert.equal(faces.length, 1, `one face in ${file}`);
    return alignedChip(image, faces[0]!.landmarks).data;
  } finally {
    await analyser.release();
  }
}

describe('FaceRes converted to ONNX', () => {
  let models: FaceModels;
  let man: Uint8Array;
  let woman: Uint8Array;

  before(async () => {
    [models, man, woman] = await Promise.all([
      openFaceModels({ device: { kind: 'cpu' }, intraOpThreads: 1 }),
      chipOf('asl_m1/asl_again_t0.50.jpg'),
      chipOf('asl_f1/asl_book_t1.00.jpg'),
    ]);
  });
  after(() => models?.release());

  it('gives what TensorFlow.js gave for the same chip', async () => {
    // Read from FaceRes on TensorFlow.js's WebAssembly backend before the conversion (the two agreed to a cosine of
    // 0.99999999 on all 34 labelled faces); a wrong layout, padding or weight order moves these by far more.
    const expected: [number, number][] = [[0, 0.118566], [100, 0], [200, 0.000876], [300, 0.00276], [500, 0.041252], [700, 0.000447], [900, 0.082525], [1023, 0]];
    const { descriptors, estimates } = await models.describe(man, CHIP_SIZE, 1);
    const descriptor = descriptors[0]!;
    assert.equal(descriptor.length, DESCRIPTOR_LENGTH);
    assert.ok(Math.abs(Math.hypot(...descriptor) - 1) < 1e-5);
    for (const [index, value] of expected) assert.ok(Math.abs(descriptor[index]! - value) < 1e-4, `value ${index}: ${descriptor[index]} against ${value}`);
    assert.equal(estimates[0]!.gender, 'male');
    assert.ok(Math.abs(estimates[0]!.age - 28.656) < 0.01, `age ${estimates[0]!.age}`);
    assert.ok(Math.abs(estimates[0]!.genderProbability - 0.98090) < 1e-3);
  });

  it('describes a batch as it describes each chip alone', async () => {
    const batch = new Uint8Array(man.length * 2);
    batch.set(man, 0);
    batch.set(woman, man.length);
    const together = await models.describe(batch, CHIP_SIZE, 2);
    const [alone1, alone2] = await Promise.all([models.describe(man, CHIP_SIZE, 1), models.describe(woman, CHIP_SIZE, 1)]);
    const distance = (a: Float32Array, b: Float32Array) => Math.hypot(...a.map((value, i) => value - b[i]!));
    assert.ok(distance(together.descriptors[0]!, alone1.descriptors[0]!) < 1e-4);
    assert.ok(distance(together.descriptors[1]!, alone2.descriptors[0]!) < 1e-4);
    assert.ok(distance(together.descriptors[0]!, together.descriptors[1]!) > 0.9, 'two people lie apart');
    assert.equal(together.estimates[1]!.gender, alone2.estimates[0]!.gender);
  });

  it('refuses an op it does not convert, by name', () => {
    const graph = {
      nodes: [
        { name: 'image', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '-1' }, { size: '8' }, { size: '8' }, { size: '3' }] } } } },
        { name: 'pool', op: 'MaxPool', input: ['image'] },
      ],
      weightSpecs: [],
      weightData: new Uint8Array(0),
    };
    assert.throws(() => convertTfjsGraph(graph, ['pool']), /pool: op MaxPool is not converted/);
  });
});
