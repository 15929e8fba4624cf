import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scoreLines, summariseScores, type ExpectedLine } from '../../domain/text/accuracy.js';
import { createTextReader, detectionSize, type TextReader } from '../../gpu-worker/ocr.js';
import { decodeToRgb } from '../../media/image.js';
import { fixturesDir } from '../support/paths.js';

const textDir = path.join(fixturesDir, 'text');

describe('PP-OCR text reader on the text fixtures', () => {
  let reader: TextReader;
  let truth: { file: string; size: [number, number]; lines: ExpectedLine[] }[];
  before(async () => {
    reader = await createTextReader({ device: { kind: 'cpu' }, intraOpThreads: 0 });
    truth = (JSON.parse(await readFile(path.join(textDir, 'ground_truth.json'), 'utf8')) as { images: typeof truth }).images;
  });
  after(() => reader.release());

  it('reads the overlay timestamps exactly, with their spaces, and boxes them where they are', async () => {
    for (const file of ['otl_hannover_K50_day_timestamp.jpg', 'cameratrapai_reconyx_bear_infobar.jpg']) {
      const image = truth.find((entry) => entry.file === file)!;
      const { lines } = await reader.read(await decodeToRgb(await readFile(path.join(textDir, file))));
      const timestamp = lines.find((line) => line.text === image.lines[0]!.text);
      assert.ok(timestamp, `${file}: ${JSON.stringify(lines.map((line) => line.text))}`);
      assert.ok(timestamp.confidence > 0.8 && timestamp.confidence <= 1);
      const [x1, y1, x2, y2] = timestamp.box;
      // Both timestamps are in the top-left quarter of their frame.
      assert.ok(x1 >= 0 && y1 >= 0 && x2 < image.size[0] / 2 && y2 < image.size[1] / 4, `box ${timestamp.box.join(',')}`);
    }
  });

  it('reads most lines of every fixture exactly', async () => {
    const scores = [];
    for (const image of truth) {
      const { lines } = await reader.read(await decodeToRgb(await readFile(path.join(textDir, image.file))));
      scores.push(...scoreLines(image.lines, lines.map((line) => line.text)));
    }
    const summary = summariseScores(scores);
    // 24 of 29 when measured (BENCHMARKS.md); the margin is for onnxruntime builds that round differently.
    assert.ok(summary.exactShare >= 0.75, `exact ${summary.exact}/${summary.lines}`);
    assert.ok(summary.characterErrorRate < 0.1, `CER ${summary.characterErrorRate}`);
  });

  it('finds no text where there is none', async () => {
    const { data, info } = await (await import('sharp')).default({ create: { width: 640, height: 360, channels: 3, background: '#4a6a3a' } })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const { lines } = await reader.read({ width: info.width, height: info.height, data });
    assert.deepEqual(lines, []);
  });
});

describe('detection input size', () => {
  it('shrinks large frames to 1280 on the longer side and enlarges small ones to 640, in multiples of 32', () => {
    assert.deepEqual(detectionSize(1920, 1080), { width: 1280, height: 736 });
    assert.deepEqual(detectionSize(320, 240), { width: 640, height: 480 });
    assert.deepEqual(detectionSize(800, 600), { width: 800, height: 608 });
  });
});
