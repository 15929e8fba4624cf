import type { DetectionRecord } from '../../db/repositories/detections.js';
import type { Box } from '../../domain/types.js';
import { plateOf } from '../../domain/text/plate.js';
import { decodeToRgb, InvalidImageError, type RgbImage } from '../../media/image.js';
import type { MediaStore } from '../../media/store.js';

/** The models enrichment looks through, opened on first use. */
export interface VisualModels {
  faces(): Promise<{ detect(image: RgbImage, personBoxes?: readonly Box[]): Promise<{ faces: { score: number }[] }> }>;
  text(): Promise<{ read(image: RgbImage): Promise<{ lines: { text: string; confidence: number; boxScore: number }[] }> }>;
}

export interface VisualEnrichment {
  face: { detected: boolean; count: number; confidence: number | null } | null;
  license_plate: { detected: boolean; text: string | null; confidence: number | null; ocr_confidence: number | null } | null;
}

/** A vehicle's plate often hangs just below its box. */
const VEHICLE_MARGIN = 0.05;

/**
 * What the frame shows inside a detection's box: faces in a person (YuNet), a readable plate on a vehicle
 * (PP-OCR on the vehicle's crop). Null where the detection has no stored frame or is of another kind.
 */
export async function visualEnrichment(detection: DetectionRecord, media: MediaStore, models: VisualModels): Promise<VisualEnrichment> {
  const none: VisualEnrichment = { face: null, license_plate: null };
  if (!detection.frame || (detection.category !== 'person' && detection.category !== 'vehicle')) return none;
  let frame: RgbImage;
  try {
    frame = await decodeToRgb(await media.get(detection.frame.mediaKey));
  } catch (error) {
    // A frame gone or unreadable leaves nothing to look at.
    if (error instanceof InvalidImageError || (error as NodeJS.ErrnoException).code === 'ENOENT') return none;
    throw error;
  }
  if (detection.category === 'person') {
    const { faces } = await (await models.faces()).detect(frame, [detection.box]);
    const confidence = faces.length ? Math.max(...faces.map((face) => face.score)) : null;
    return { ...none, face: { detected: faces.length > 0, count: faces.length, confidence } };
  }
  const crop = cropBox(frame, detection.box, VEHICLE_MARGIN);
  const { lines } = await (await models.text()).read(crop);
  const plate = plateOf(lines);
  return {
    ...none,
    license_plate: plate
      ? { detected: true, text: plate.plate, confidence: plate.boxScore, ocr_confidence: plate.confidence }
      : { detected: false, text: null, confidence: null, ocr_confidence: null },
  };
}

function cropBox(image: RgbImage, [x1, y1, x2, y2]: Box, margin: number): RgbImage {
  const mx = (x2 - x1) * margin;
  const my = (y2 - y1) * margin;
  const left = Math.max(0, Math.floor(x1 - mx));
  const top = Math.max(0, Math.floor(y1 - my));
  const right = Math.min(image.width, Math.ceil(x2 + mx));
  const bottom = Math.min(image.height, Math.ceil(y2 + my));
  const width = Math.max(1, right - left);
  const height = Math.max(1, bottom - top);
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * 3;
    image.data.copy(data, y * width * 3, from, from + width * 3);
  }
  return { width, height, data };
}
