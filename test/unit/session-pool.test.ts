import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { INPUT_PLANE } from '../../gpu-worker/models/adapter.js';
import { yolox } from '../../gpu-worker/models/yolox.js';
import { detectorModelSource } from '../../gpu-worker/detector.js';
import { openResizable } from '../../media/image.js';
import { openSessionPool } from '../../gpu-worker/session-pool.js';
import { openSession } from '../../gpu-worker/session.js';
import { fixturesDir, modelsDir } from '../support/paths.js';

const modelPath = path.join(modelsDir, 'yolox_nano_416_coco.onnx');
const dims = [1, 3, 416, 416];

function greyInput(value: number): Float32Array {
  return new Float32Array(3 * INPUT_PLANE).fill(value);
}

describe('session pool', () => {
  it('gives what an in-process session gives, from every thread, and hands the input back', async () => {
    const { session } = await openSession(modelPath, { kind: 'cpu' }, 1, undefined);
    const expected = (await session.run({ images: new ort.Tensor('float32', greyInput(114), dims) })).output!.data as Float32Array;
    await session.release();

    const pool = await openSessionPool(modelPath, { kind: 'cpu' }, 1, 2, undefined);
    try {
      assert.equal(pool.size, 2);
      assert.deepEqual(pool.inputNames, ['images']);
      assert.deepEqual(pool.outputNames, ['output']);
      assert.equal(pool.device, 'cpu');
      const runs = await Promise.all(
        Array.from({ length: 6 }, () => pool.run({ inputName: 'images', input: greyInput(114), dims, outputNames: ['output'] })),
      );
      for (const { outputs, input } of runs) {
        assert.equal(input.length, 3 * INPUT_PLANE);
        assert.equal(input[0], 114);
        assert.deepEqual(outputs[0], expected);
      }
    } finally {
      await pool.release();
    }
  });

  it("decodes a detector's outputs on its thread into the candidates the caller would decode", async () => {
    const frame = await openResizable(await readFile(path.join(fixturesDir, 'events/pets2009_people_walking_a/frame_00.jpg')));
    const resize = yolox.resizeFor(frame.width, frame.height);
    const input = () => {
      const tensor = new Float32Array(3 * resize.inputHeight * resize.inputWidth);
      return frame.resize(resize.width, resize.height, resize.kernel).then((rgb) => (yolox.fillTensor(rgb, resize, tensor), tensor));
    };
    const frameDims = [1, 3, resize.inputHeight, resize.inputWidth];
    const pool = await openSessionPool(await detectorModelSource(modelsDir, 'yolox_nano_416_coco'), { kind: 'cpu' }, 1, 1, undefined);
    try {
      assert.notEqual(resize.inputHeight, resize.inputWidth, 'a frame that is not square runs on an input that is not square');
      const raw = await pool.run({ inputName: 'images', input: await input(), dims: frameDims, outputNames: ['output'] });
      const expected = yolox.decode(raw.outputs, frame, 0.25);
      const decoded = await pool.run({
        inputName: 'images',
        input: await input(),
        dims: frameDims,
        outputNames: ['output'],
        decode: { model: 'yolox_nano_416_coco', frame: { width: frame.width, height: frame.height }, scoreThreshold: 0.25 },
      });
      assert.ok(expected.some(({ classId }) => classId === 0), 'the frame holds people');
      assert.deepEqual(decoded.candidates, expected);
      assert.deepEqual(decoded.outputs, []);
      assert.equal(raw.candidates, null);
    } finally {
      await pool.release();
    }
  });

  it('fails one bad run and keeps serving', async () => {
    const pool = await openSessionPool(modelPath, { kind: 'cpu' }, 1, 1, undefined);
    try {
      await assert.rejects(pool.run({ inputName: 'nope', input: greyInput(0), dims, outputNames: ['output'] }), /onnxruntime run failed/);
      const { outputs } = await pool.run({ inputName: 'images', input: greyInput(0), dims, outputNames: ['output'] });
      assert.equal(outputs[0]!.length, 3549 * 85);
    } finally {
      await pool.release();
    }
  });

  it('refuses a file that is not a model', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vigil-pool-'));
    try {
      const notAModel = path.join(dir, 'broken.onnx');
      await writeFile(notAModel, 'not a model');
      await assert.rejects(openSessionPool(notAModel, { kind: 'cpu' }, 1, 2, undefined));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
