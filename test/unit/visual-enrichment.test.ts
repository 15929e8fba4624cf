import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { enrichmentDocument } from '../../api/detections/enrichment.js';
import { visualEnrichment, type VisualModels } from '../../api/detections/visual-enrichment.js';
import type { DetectionRecord } from '../../db/repositories/detections.js';
import { plateOf } from '../../domain/text/plate.js';
import type { Box } from '../../domain/types.js';
import { createFaceAnalyser, type FaceAnalyser } from '../../gpu-worker/faces.js';
import { createTextReader, type TextReader } from '../../gpu-worker/ocr.js';
import { FileSystemMediaStore } from '../../media/store.js';
import { fixturesDir, modelsDir } from '../support/paths.js';

function detection(category: 'person' | 'vehicle', box: Box, mediaKey: string | null): DetectionRecord {
  return {
    id: 7,
    rowId: '00000000-0000-4000-8000-000000000007',
    parked: false,
    jobId: 'raw_test',
    frameIndex: 0,
    category,
    objectType: category === 'person' ? 'person' : 'car',
    score: 0.9,
    box,
    detectedAt: new Date('2026-12-02T12:00:00Z'),
    mediaType: 'image',
    filePath: null,
    fileType: null,
    labels: [],
    camera: { cameraId: 'cam', groupId: 'g', siteId: 's', zoneId: 'z' } as unknown as DetectionRecord['camera'],
    frame: mediaKey ? { mediaKey, format: 'jpeg', width: 640, height: 480 } : null,
    video: null,
  };
}

describe('enrichment: faces in a person, the plate of a vehicle', () => {
  let dir: string;
  let media: FileSystemMediaStore;
  let faces: FaceAnalyser;
  let reader: TextReader;
  let models: VisualModels;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vigil-enrichment-'));
    media = new FileSystemMediaStore(dir);
    [faces, reader] = await Promise.all([
      createFaceAnalyser({ modelsDir, device: { kind: 'cpu' }, intraOpThreads: 0 }),
      createTextReader({ device: { kind: 'cpu' }, intraOpThreads: 0 }),
    ]);
    models = { faces: async () => faces, text: async () => reader };
    await media.put('alarms/raw_test/person.jpg', await readFile(path.join(fixturesDir, 'faces/asl_m1/asl_again_t0.50.jpg')));
    // A plain car-coloured block with a plate on it.
    const plate = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><rect width="400" height="300" fill="#335577"/>' +
        '<rect x="100" y="200" width="200" height="50" fill="#ffffff" stroke="#000" stroke-width="3"/>' +
        '<text x="200" y="238" font-family="DejaVu Sans, Arial, sans-serif" font-size="36" font-weight="bold" text-anchor="middle" fill="#000">KA 4821</text></svg>',
    );
    await media.put('alarms/raw_test/vehicle.jpg', await sharp(plate).jpeg().toBuffer());
  });
  after(async () => {
    await Promise.all([faces?.release(), reader?.release()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('counts the faces inside a person detection, with the best face score', async () => {
    const person = detection('person', [100, 0, 560, 480], 'alarms/raw_test/person.jpg');
    const visual = await visualEnrichment(person, media, models);
    assert.equal(visual.license_plate, null);
    assert.equal(visual.face?.detected, true);
    assert.equal(visual.face?.count, 1);
    assert.ok(visual.face!.confidence! > 0.8);
    const document = enrichmentDocument(person, undefined, visual);
    assert.deepEqual(document.face, visual.face);
    // Outside the person's box there is no face.
    const beside = await visualEnrichment(detection('person', [0, 300, 120, 480], 'alarms/raw_test/person.jpg'), media, models);
    assert.deepEqual(beside.face, { detected: false, count: 0, confidence: null });
  });

  it('reads a plate on a vehicle', async () => {
    const visual = await visualEnrichment(detection('vehicle', [0, 0, 400, 300], 'alarms/raw_test/vehicle.jpg'), media, models);
    assert.equal(visual.face, null);
    assert.equal(visual.license_plate?.detected, true, JSON.stringify(visual));
    assert.equal(visual.license_plate?.text, 'KA 4821');
    assert.ok(visual.license_plate!.ocr_confidence! > 0.8);
  });

  it('looks at nothing without a stored frame', async () => {
    assert.deepEqual(await visualEnrichment(detection('person', [0, 0, 10, 10], null), media, models), { face: null, license_plate: null });
    assert.deepEqual(await visualEnrichment(detection('person', [0, 0, 10, 10], 'alarms/raw_test/gone.jpg'), media, models), { face: null, license_plate: null });
  });
});

describe('plate among read lines', () => {
  it('takes the most confident plate-like line', () => {
    const lines = [
      { text: 'TOYOTA', confidence: 0.99 },
      { text: 'ab-123-cd', confidence: 0.91 },
      { text: 'KA 4821', confidence: 0.95 },
      { text: '2019-10-24 09:06:10', confidence: 0.99 },
      { text: 'X9', confidence: 0.99 },
      { text: 'B 7734 Q', confidence: 0.5 },
    ];
    assert.equal(plateOf(lines)?.plate, 'KA 4821');
    assert.equal(plateOf(lines.slice(0, 2))?.plate, 'AB-123-CD');
    assert.equal(plateOf([lines[0]!, lines[3]!, lines[4]!]), null);
  });
});
