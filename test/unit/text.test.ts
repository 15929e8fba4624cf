import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editDistance, scoreLines, summariseScores } from '../../domain/text/accuracy.js';
import { cropQuad } from '../../domain/text/crop.js';
import { ctcCharacters, ctcGreedyDecode } from '../../domain/text/ctc.js';
import { imageTextResults, mergeFrameText } from '../../domain/text/merge.js';
import { languageOf } from '../../domain/text/script.js';
import { minAreaRect, textBoxes } from '../../domain/text/text-boxes.js';
import type { Box } from '../../domain/types.js';

describe('DB post-processing', () => {
  it('turns a region of high probability into its rectangle, grown and scaled to the source image', () => {
    const width = 100;
    const height = 50;
    const map = new Float32Array(width * height);
    // A 40 x 10 text region at (20, 20) in the map.
    for (let y = 20; y < 30; y++) for (let x = 20; x < 60; x++) map[y * width + x] = 0.9;
    const [box, ...rest] = textBoxes(map, width, height, 200, 100);
    assert.equal(rest.length, 0);
    assert.ok(box!.score > 0.85);
    const [tl, tr, br, bl] = box!.quad;
    // Grown by area * 1.5 / perimeter = 39 * 9 * 1.5 / 96 ≈ 5.5 map pixels each side, then doubled.
    assert.ok(Math.abs(tl[0] - 2 * (20 - 5.5)) <= 2 && Math.abs(tl[1] - 2 * (20 - 5.5)) <= 2, `top-left ${tl.join(',')}`);
    assert.ok(Math.abs(br[0] - 2 * (59 + 5.5)) <= 2 && Math.abs(br[1] - 2 * (29 + 5.5)) <= 2, `bottom-right ${br.join(',')}`);
    assert.ok(tr[0] > tl[0] && bl[1] > tl[1]);
  });

  it('drops faint and tiny regions', () => {
    const width = 60;
    const height = 60;
    const map = new Float32Array(width * height);
    for (let y = 5; y < 15; y++) for (let x = 5; x < 50; x++) map[y * width + x] = 0.4; // faint: mean below 0.6
    for (let y = 40; y < 42; y++) for (let x = 10; x < 30; x++) map[y * width + x] = 0.95; // 2 px tall
    assert.deepEqual(textBoxes(map, width, height, width, height), []);
  });

  it('finds the rotated rectangle of slanted points', () => {
    const points: [number, number][] = [];
    for (let t = 0; t <= 40; t++) for (let s = 0; s <= 5; s++) points.push([t * Math.cos(Math.PI / 6) - s * Math.sin(Math.PI / 6), t * Math.sin(Math.PI / 6) + s * Math.cos(Math.PI / 6)]);
    const rect = minAreaRect(points);
    const [long, short] = [Math.max(rect.width, rect.height), Math.min(rect.width, rect.height)];
    assert.ok(Math.abs(long - 40) < 0.5 && Math.abs(short - 5) < 0.5, `${long} x ${short}`);
  });
});

describe('crop of a text box', () => {
  it('straightens the quad and turns tall crops to read left to right', () => {
    // 4 x 2 image: left half red, right half blue.
    const data = new Uint8Array(4 * 2 * 3);
    for (let i = 0; i < 8; i++) data.set(i % 4 < 2 ? [255, 0, 0] : [0, 0, 255], i * 3);
    const crop = cropQuad({ width: 4, height: 2, data }, [[0, 0], [3, 0], [3, 1], [0, 1]]);
    assert.equal(crop.width, 3);
    assert.equal(crop.height, 1);
    assert.deepEqual([...crop.data.subarray(0, 3)], [255, 0, 0]);
    assert.deepEqual([...crop.data.subarray(6, 9)], [0, 0, 255]);
    const tall = cropQuad({ width: 4, height: 2, data }, [[0, 0], [0, 0], [0, 1], [0, 1]]);
    assert.equal(tall.height, 1);
  });
});

describe('CTC greedy decoding', () => {
  const characters = ctcCharacters('a\nb\nc\n');
  const steps = (...classes: number[]) => {
    const probabilities = new Float32Array(classes.length * characters.length);
    classes.forEach((k, step) => (probabilities[step * characters.length + k] = 0.9));
    return ctcGreedyDecode(probabilities, classes.length, characters.length, characters);
  };

  it('indexes the blank first and the space last', () => {
    assert.deepEqual(characters, ['', 'a', 'b', 'c', ' ']);
  });

  it('collapses repeats and drops blanks, keeping a letter repeated across a blank', () => {
    assert.deepEqual(steps(1, 1, 0, 1, 2, 2, 3), { text: 'aabc', confidence: 0.8999999761581421 });
  });

  it('reads a wide gap between characters as a space', () => {
    // Pitch 2 steps; the 6-step gap is a left-out space.
    assert.equal(steps(1, 0, 2, 0, 3, 0, 0, 0, 0, 0, 1, 0, 2, 0, 3).text, 'abc abc');
    assert.equal(steps(1, 0, 2, 0, 3, 0, 4, 0, 1).text, 'abc a');
  });
});

describe('language of a line', () => {
  it('tells scripts apart and Latin languages by their letters', () => {
    assert.equal(languageOf('Entrance'), 'en');
    assert.equal(languageOf('Ausfahrt freihalten für Rettungsfahrzeuge'), 'de');
    assert.equal(languageOf('出口'), 'zh');
    assert.equal(languageOf('出口はこちら'), 'ja');
    assert.equal(languageOf('출구'), 'ko');
    assert.equal(languageOf('2019-10-24 09:06:10'), undefined);
    assert.equal(languageOf('M 1/3'), undefined);
  });
});

describe('text merged over sampled frames', () => {
  const box: Box = [10, 10, 200, 40];
  const at = (time: number, ...lines: [string, Box][]) => ({ time, lines: lines.map(([text, b]) => ({ text, confidence: 0.9, box: b })) });

  it('makes one result of text read on consecutive frames, ticking clocks included', () => {
    const results = mergeFrameText(
      [at(0, ['2019-10-24 09:06:10', box]), at(0.5, ['2019-10-24 09:06:10', box]), at(1, ['2019-10-24 09:06:11', box]), at(1.5, ['2019-10-24 09:06:11', box])],
      { frameInterval: 0.5 },
    );
    assert.equal(results.length, 1);
    assert.deepEqual(results[0]!.time_segment, { start_seconds: 0, end_seconds: 2 });
    assert.match(results[0]!.full_text, /^2019-10-24 09:06:1[01]$/);
    assert.equal(results[0]!.language_code, undefined);
  });

  it('starts a new result for other text, text elsewhere, and text back after a long absence', () => {
    const elsewhere: Box = [400, 300, 600, 340];
    const results = mergeFrameText(
      [at(0, ['No dogs off leash', box], ['EXIT', elsewhere]), at(0.5, ['No dogs off leash', box]), at(3, ['No dogs off leash', box]), at(3.5, ['Lobby', box])],
      { frameInterval: 0.5, duration: 3.7 },
    );
    assert.deepEqual(
      results.map((r) => [r.full_text, r.time_segment!.start_seconds, r.time_segment!.end_seconds, r.language_code]),
      [
        ['No dogs off leash', 0, 1, 'en'],
        ['EXIT', 0, 0.5, 'en'],
        ['No dogs off leash', 3, 3.5, 'en'],
        ['Lobby', 3.5, 3.7, 'en'],
      ],
    );
  });

  it('bridges one frame where the text was hidden', () => {
    const results = mergeFrameText([at(0, ['FLIR', box]), at(0.5), at(1, ['FLIR', box])], { frameInterval: 0.5 });
    assert.equal(results.length, 1);
    assert.deepEqual(results[0]!.time_segment, { start_seconds: 0, end_seconds: 1.5 });
  });

  it('gives an image one result per distinct line, without a time segment', () => {
    const results = imageTextResults([
      { text: 'Kitchen', confidence: 0.9, box },
      { text: ' Kitchen ', confidence: 0.8, box },
      { text: '34°F', confidence: 0.9, box },
    ]);
    assert.deepEqual(results, [{ language_code: 'en', full_text: 'Kitchen' }, { full_text: '34°F' }]);
  });
});

describe('OCR accuracy scoring', () => {
  it('counts exact lines, accepted readings and edits', () => {
    assert.equal(editDistance('459F', '45°F'), 1);
    const scores = scoreLines([{ text: '45°F', accept: ['45'] }, { text: 'FLIR' }, { text: 'IPC' }], ['45', 'OFLIR']);
    assert.deepEqual(
      scores.map((s) => [s.exact, s.edits]),
      [
        [true, 0],
        [false, 1],
        [false, 3],
      ],
    );
    const summary = summariseScores(scores);
    assert.equal(summary.exact, 1);
    assert.equal(summary.characterErrorRate, 4 / 11);
  });
});
