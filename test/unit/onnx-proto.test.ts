import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { yolox } from '../../gpu-worker/models/yolox.js';
import { detectorGraph, ModelProto } from '../../gpu-worker/onnx-proto.js';
import { modelsDir } from '../support/paths.js';

const grey = (height: number, width: number) => new ort.Tensor('float32', new Float32Array(3 * height * width).fill(114), [1, 3, height, width]);

/** The names a model's graph lists as its inputs. */
const graphInputs = (model: Uint8Array) => (ModelProto.toObject(ModelProto.decode(model)) as { graph: { input: { name: string }[] } }).graph.input.map(({ name }) => name);

const modelFile = (name: string) => readFile(path.join(modelsDir, `${name}.onnx`));

describe('detectorGraph', () => {
  it('opens YOLOX-nano on inputs of any stride-32 size, the square one giving what the file gives', async () => {
    const file = await modelFile('yolox_nano_416_coco');
    const fixed = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
    const free = await ort.InferenceSession.create(detectorGraph(file, { inputName: 'images', freeImageSize: true }), { logSeverityLevel: 3 });
    try {
      await assert.rejects(fixed.run({ images: grey(256, 416) }), /dimensions/i);
      const rectangular = (await free.run({ images: grey(256, 416) })).output!;
      // 52 x 32 + 26 x 16 + 13 x 8 cells.
      assert.deepEqual(rectangular.dims, [1, 2184, 85]);
      const square = (await free.run({ images: grey(416, 416) })).output!;
      assert.deepEqual(square.data, (await fixed.run({ images: grey(416, 416) })).output!.data);
    } finally {
      await Promise.all([fixed.release(), free.release()]);
    }
  });

  it('rewrites only the inputs and outputs: the graph keeps every node and weight', async () => {
    const file = await modelFile('yolox_nano_416_coco');
    const freed = detectorGraph(file, { inputName: 'images', freeImageSize: true });
    // Five dimensions named instead of numbered (input height and width, 3 output sizes): a few dozen bytes.
    assert.ok(Math.abs(freed.length - file.length) < 200, `${file.length} → ${freed.length} bytes`);
    assert.ok(Buffer.from(freed).includes(Buffer.from('images_height')));
  });

  it("leaves PicoDet-S's weights out of its inputs, its outputs unchanged", async () => {
    const file = await modelFile('picodet_s_416_coco');
    const original = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
    const rewritten = await ort.InferenceSession.create(detectorGraph(file, { inputName: 'image', freeImageSize: false }), { logSeverityLevel: 3 });
    try {
      // The file lists every weight and constant as an input.
      assert.ok(graphInputs(file).length > 100, `${graphInputs(file).length} inputs`);
      assert.deepEqual(graphInputs(detectorGraph(file, { inputName: 'image', freeImageSize: false })), ['image']);
      const image = new ort.Tensor('float32', Float32Array.from({ length: 3 * 416 * 416 }, (_, i) => ((i * 7919) % 255) / 255 - 0.5), [1, 3, 416, 416]);
      const [before, after] = await Promise.all([original.run({ image }), rewritten.run({ image })]);
      for (const name of rewritten.outputNames) {
        const expected = before[name]!.data as Float32Array;
        const actual = after[name]!.data as Float32Array;
        assert.equal(actual.length, expected.length);
        assert.ok(actual.every((value, i) => Math.abs(value - expected[i]!) < 1e-5), name);
      }
    } finally {
      await Promise.all([original.release(), rewritten.release()]);
    }
  });
});

describe('YOLOX-nano input size', () => {
  it('letterboxes onto a canvas rounded up to 32 px with at least 16 px of grey, never past the square', () => {
    const sizes = (width: number, height: number) => {
      const { width: w, height: h, inputWidth, inputHeight } = yolox.resizeFor(width, height);
      return [w, h, inputWidth, inputHeight];
    };
    assert.deepEqual(sizes(1280, 720), [416, 234, 416, 256]);
    assert.deepEqual(sizes(768, 432), [416, 234, 416, 256]);
    assert.deepEqual(sizes(768, 576), [416, 312, 416, 352]);
    assert.deepEqual(sizes(720, 1280), [234, 416, 256, 416]);
    assert.deepEqual(sizes(500, 500), [416, 416, 416, 416]);
    // 400 px of picture: 16 px of grey would pass 416, so the square it is.
    assert.deepEqual(sizes(416, 400), [416, 400, 416, 416]);
  });
});
