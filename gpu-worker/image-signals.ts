import { openResizable, resizableRgb, type ResizableImage } from '../media/image.js';
import type { ImageSignals } from '../workflows/contracts/image-batch-analysis.js';
import { scaledSize, type Classifier } from './classifier.js';
import type { Detector } from './detector.js';

/** Lowest detector score an image's analysis keeps: low enough for calibration to see weak evidence too. */
export const OBJECT_MIN_SCORE = 0.05;
/** Classes and groups an image's answer keeps at most: every tag comes from the strongest few, and the answer stays small. */
const MAX_OBJECTS = 10;
const MAX_GROUPS = 8;
/** ImageNet groups below this add nothing to a tag. */
const GROUP_MIN_PROBABILITY = 0.01;
/**
 * Mean luma (0–1) below which a picture is dark; and below which a grey-scale one is an IR night picture. On the
 * fixtures: IR night frames have chroma ≤ 0.006 and luma 0.20–0.33, a dark IR trail-camera frame luma 0.13, the
 * darkest daylight picture (dense vegetation) luma 0.155 with chroma 0.115.
 */
const DARK_LUMA = 0.14;
const DIM_GREY_LUMA = 0.45;
/** Mean |R−G| + |G−B| (0–1) below which a picture has no colour: an IR or monochrome camera. */
const GREY_CHROMA = 0.02;

/** Whether the picture was taken in low light, from a 32 x 32 copy. */
export async function isLowLight(source: ResizableImage): Promise<boolean> {
  const rgb = await source.resize(32, 32, 'linear');
  let luma = 0;
  let chroma = 0;
  for (let i = 0; i < rgb.length; i += 3) {
    const [r, g, b] = [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
    luma += 0.299 * r + 0.587 * g + 0.114 * b;
    chroma += Math.abs(r - g) + Math.abs(g - b);
  }
  const pixels = rgb.length / 3;
  const meanLuma = luma / pixels / 255;
  const meanChroma = chroma / pixels / 255;
  return meanLuma < DARK_LUMA || (meanChroma < GREY_CHROMA && meanLuma < DIM_GREY_LUMA);
}

/**
 * The picture at the classifier's input size (shorter side 256), decoded once for the classifier and the light
 * measure. The detector reads the file itself: decoding straight to its own size keeps its scores as calibrated.
 */
async function classifierCopy(file: ResizableImage): Promise<ResizableImage> {
  const { width, height } = scaledSize(file.width, file.height);
  return resizableRgb({ width, height, data: await file.resize(width, height, 'linear') });
}

/**
 * What the detector (every COCO class) and the ImageNet classifier see in one picture, and its light: what an
 * image batch's tags are made of (domain/image-tags.ts).
 */
export async function imageSignals(detector: Detector, classifier: Classifier, bytes: Uint8Array): Promise<ImageSignals> {
  const file = await openResizable(bytes);
  const [prepared, small] = await Promise.all([detector.prepare(file), classifierCopy(file)]);
  const [classified, lowLight] = await Promise.all([classifier.classify(small, 1), isLowLight(small)]);
  const objects = (await detector.classScores(prepared, OBJECT_MIN_SCORE)).slice(0, MAX_OBJECTS);
  const groups = classified.groups.filter((group) => group.probability >= GROUP_MIN_PROBABILITY).slice(0, MAX_GROUPS);
  return { objects, groups, lowLight };
}
