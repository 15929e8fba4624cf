import sharp from 'sharp';
import { alignedChip, CHIP_SIZE, type Landmark } from '../domain/faces/align.js';
import { meanSaturation, type RgbPixels } from '../domain/faces/pixels.js';
import type { Box } from '../domain/types.js';
import type { RgbImage } from '../media/image.js';
import { openFaceModels, type FaceModels } from './face-models.js';
import { modelFilePath } from './model-files.js';
import { nms } from './postprocess.js';
import type { SessionDevice, SessionLogger } from './session.js';
import { openSessionPool, type SessionPool } from './session-pool.js';

/** YuNet's score (the geometric mean of its class and objectness outputs, as OpenCV's FaceDetectorYN). */
export const FACE_MIN_SCORE = 0.6;
const FACE_NMS_IOU = 0.3;
/** Whole images are detected at up to this longer side. */
const IMAGE_MAX_SIDE = 640;
/** A person's box is detected at this longer side at least (small people are enlarged up to 3 times). */
const PERSON_MIN_SIDE = 320;
/** Below this chip saturation a face is grey or infrared: no gender from it. */
export const GREY_SATURATION = 0.1;
/** Gender estimates less sure than this are not given. */
export const GENDER_MIN_PROBABILITY = 0.7;
const THUMBNAIL_SIDE = 112;

export type Gender = 'male' | 'female' | 'unidentified';

export interface FoundFace {
  /** [x1, y1, x2, y2] in the image's pixels. */
  box: Box;
  score: number;
  /** Subject's right eye, left eye, nose tip, right and left mouth corners. */
  landmarks: Landmark[];
}

export interface DescribedFace extends FoundFace {
  /** HSE FaceRes's descriptor: 1024 values of unit length; faces of one person lie within about 0.9 of each other. */
  descriptor: Float32Array;
}

export interface AnalysedFace extends DescribedFace {
  age: number;
  gender: Gender;
  /** The face with a margin, as a JPEG at most 112 px on a side. */
  thumbnail: Buffer;
}

export interface FaceTimings {
  detectMs: number;
  /** Descriptor, age and gender: one network. */
  describeMs: number;
}

export interface FaceAnalyser {
  /** Faces only (YuNet), in the whole image or inside the given person boxes. */
  detect(image: RgbImage, personBoxes?: readonly Box[]): Promise<{ faces: FoundFace[]; ms: number }>;
  /** Faces with their descriptor, age, gender and thumbnail. */
  analyse(image: RgbImage, personBoxes?: readonly Box[]): Promise<{ faces: AnalysedFace[]; timings: FaceTimings }>;
  /** The faces of a whole image with their descriptor only (allowlist photos: no age, gender or thumbnail wanted). */
  describe(image: RgbImage): Promise<{ faces: DescribedFace[] }>;
  release(): Promise<void>;
}

export interface FaceAnalyserOptions {
  modelsDir: string;
  device: SessionDevice;
  intraOpThreads: number;
  logger?: SessionLogger;
}

/** YuNet in an onnxruntime session on its own thread, FaceRes in another; both opened once. */
export async function createFaceAnalyser(options: FaceAnalyserOptions): Promise<FaceAnalyser> {
  const [yunet, models] = await Promise.all([
    openSessionPool(modelFilePath(options.modelsDir, 'yunet_n_dynamic_face'), options.device, options.intraOpThreads, 1, options.logger),
    openFaceModels(options),
  ]);
  options.logger?.info({ device: yunet.device, descriptorDevice: models.device }, 'face analyser ready');
  return {
    detect: (image, personBoxes) => detectFaces(yunet, image, personBoxes),
    async analyse(image, personBoxes) {
      const found = await detectFaces(yunet, image, personBoxes);
      return describeFaces(models, image, found.faces, found.ms);
    },
    async describe(image) {
      const { faces } = await detectFaces(yunet, image);
      const { descriptors } = await models.describe(...chipBatch(image, faces));
      return { faces: faces.map((face, i) => ({ ...face, descriptor: descriptors[i]! })) };
    },
    async release() {
      await Promise.all([yunet.release(), models.release()]);
    },
  };
}

/** The faces' aligned chips, one after the other, as FaceModels.describe takes them. */
function chipBatch(image: RgbPixels, faces: readonly FoundFace[]): [Uint8Array, number, number] {
  const batch = new Uint8Array(faces.length * CHIP_SIZE * CHIP_SIZE * 3);
  faces.forEach((face, i) => batch.set(alignedChip(image, face.landmarks).data, i * CHIP_SIZE * CHIP_SIZE * 3));
  return [batch, CHIP_SIZE, faces.length];
}

async function describeFaces(models: FaceModels, image: RgbImage, faces: readonly FoundFace[], detectMs: number) {
  const batch = chipBatch(image, faces);
  // The thumbnails are made on libuv's threads while FaceRes runs on its own.
  const [described, thumbnails] = await Promise.all([models.describe(...batch), Promise.all(faces.map((face) => faceThumbnail(image, face.box)))]);
  const chipLength = CHIP_SIZE * CHIP_SIZE * 3;
  const analysed: AnalysedFace[] = faces.map((face, i) => {
    const estimate = described.estimates[i]!;
    const chip: RgbPixels = { width: CHIP_SIZE, height: CHIP_SIZE, data: batch[0].subarray(i * chipLength, (i + 1) * chipLength) };
    const grey = meanSaturation(chip) < GREY_SATURATION;
    const gender: Gender = grey || estimate.genderProbability < GENDER_MIN_PROBABILITY ? 'unidentified' : estimate.gender;
    return { ...face, age: Math.round(estimate.age * 10) / 10, gender, descriptor: described.descriptors[i]!, thumbnail: thumbnails[i]! };
  });
  return { faces: analysed, timings: { detectMs, describeMs: described.ms } };
}

async function faceThumbnail(image: RgbImage, [x1, y1, x2, y2]: Box): Promise<Buffer> {
  const margin = 0.2 * Math.max(x2 - x1, y2 - y1);
  const left = Math.max(0, Math.floor(x1 - margin));
  const top = Math.max(0, Math.floor(y1 - margin));
  const width = Math.max(1, Math.min(image.width, Math.ceil(x2 + margin)) - left);
  const height = Math.max(1, Math.min(image.height, Math.ceil(y2 + margin)) - top);
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract({ left, top, width, height })
    .resize(THUMBNAIL_SIDE, THUMBNAIL_SIDE, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 80 })
    .toBuffer();
}

interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

async function detectFaces(pool: SessionPool, image: RgbImage, personBoxes?: readonly Box[]): Promise<{ faces: FoundFace[]; ms: number }> {
  const regions: { region: Region; longSide: number }[] = personBoxes
    ? personBoxes.flatMap((box) => {
        const region = clipRegion(image, box);
        if (!region) return [];
        const longer = Math.max(region.width, region.height);
        return [{ region, longSide: Math.min(IMAGE_MAX_SIDE, Math.max(longer, Math.min(PERSON_MIN_SIDE, 3 * longer))) }];
      })
    : [{ region: { left: 0, top: 0, width: image.width, height: image.height }, longSide: Math.min(IMAGE_MAX_SIDE, Math.max(image.width, image.height)) }];
  const faces: FoundFace[] = [];
  let ms = 0;
  for (const { region, longSide } of regions) {
    const found = await detectInRegion(pool, image, region, longSide);
    faces.push(...found.faces);
    ms += found.ms;
  }
  // Overlapping person boxes find the same face twice.
  return { faces: nms(faces, FACE_NMS_IOU, () => 'face'), ms };
}

function clipRegion(image: RgbImage, [x1, y1, x2, y2]: Box): Region | null {
  const left = Math.max(0, Math.floor(x1));
  const top = Math.max(0, Math.floor(y1));
  const right = Math.min(image.width, Math.ceil(x2));
  const bottom = Math.min(image.height, Math.ceil(y2));
  return right - left >= 8 && bottom - top >= 8 ? { left, top, width: right - left, height: bottom - top } : null;
}

async function detectInRegion(pool: SessionPool, image: RgbImage, region: Region, longSide: number): Promise<{ faces: FoundFace[]; ms: number }> {
  const scale = longSide / Math.max(region.width, region.height);
  const width = Math.max(1, Math.round(region.width * scale));
  const height = Math.max(1, Math.round(region.height * scale));
  const inputWidth = Math.ceil(width / 32) * 32;
  const inputHeight = Math.ceil(height / 32) * 32;
  const resized = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract(region)
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  // BGR, 0–255, zero padding right and bottom up to multiples of 32.
  const plane = inputWidth * inputHeight;
  const input = new Float32Array(3 * plane);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const source = (y * width + x) * 3;
      const target = y * inputWidth + x;
      input[target] = resized[source + 2]!;
      input[plane + target] = resized[source + 1]!;
      input[2 * plane + target] = resized[source]!;
    }
  }
  const outputNames = yunetOutputNames(pool.outputNames);
  const { outputs, ms } = await pool.run({ inputName: pool.inputNames[0]!, input, dims: [1, 3, inputHeight, inputWidth], outputNames });
  const faces = decodeYunet(outputs, inputWidth, inputHeight, FACE_MIN_SCORE).map((face) => ({
    score: face.score,
    box: face.box.map((value, i) => (i % 2 === 0 ? region.left : region.top) + value / scale) as Box,
    landmarks: face.landmarks.map(([x, y]) => [region.left + x / scale, region.top + y / scale] as Landmark),
  }));
  return { faces, ms };
}

const STRIDES = [8, 16, 32] as const;

/** cls, obj, bbox, kps per stride, in that order. */
function yunetOutputNames(names: readonly string[]): string[] {
  return STRIDES.flatMap((stride) => ['cls', 'obj', 'bbox', 'kps'].map((kind) => {
    const name = `${kind}_${stride}`;
    if (!names.includes(name)) throw new Error(`YuNet model has no output ${name}`);
    return name;
  }));
}

/**
 * YuNet's outputs (per stride: cls, obj, bbox, kps) as faces in input pixels: priors at offset 0, box
 * centre `(cell + d) * stride`, size `exp(l) * stride`, landmarks like the centre; then NMS.
 */
export function decodeYunet(outputs: readonly Float32Array[], inputWidth: number, inputHeight: number, minScore: number): FoundFace[] {
  const faces: FoundFace[] = [];
  STRIDES.forEach((stride, level) => {
    const [cls, obj, bbox, kps] = outputs.slice(level * 4, level * 4 + 4) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const columns = inputWidth / stride;
    const rows = inputHeight / stride;
    for (let row = 0; row < rows; row++) {
      for (let column = 0; column < columns; column++) {
        const i = row * columns + column;
        const score = Math.sqrt(Math.min(1, Math.max(0, cls[i]!)) * Math.min(1, Math.max(0, obj[i]!)));
        if (score < minScore) continue;
        const cx = (column + bbox[i * 4]!) * stride;
        const cy = (row + bbox[i * 4 + 1]!) * stride;
        const w = Math.exp(bbox[i * 4 + 2]!) * stride;
        const h = Math.exp(bbox[i * 4 + 3]!) * stride;
        const landmarks: Landmark[] = Array.from({ length: 5 }, (_, k) => [(column + kps[i * 10 + 2 * k]!) * stride, (row + kps[i * 10 + 2 * k + 1]!) * stride]);
        faces.push({ score: Math.round(score * 1000) / 1000, box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], landmarks });
      }
    }
  });
  return nms(faces, FACE_NMS_IOU, () => 'face');
}

/** A face analyser opened on first use (the API needs one only for allowlist photos), released with its process. */
export interface LazyFaceAnalyser {
  get(): Promise<FaceAnalyser>;
  release(): Promise<void>;
}

export function lazyFaceAnalyser(options: FaceAnalyserOptions): LazyFaceAnalyser {
  let opening: Promise<FaceAnalyser> | null = null;
  return {
    get() {
      opening ??= createFaceAnalyser(options).catch((error: unknown) => {
        // A failed start may succeed later (a model placed meanwhile).
        opening = null;
        throw error;
      });
      return opening;
    },
    async release() {
      const analyser = await opening?.catch(() => null);
      opening = null;
      await analyser?.release();
    },
  };
}
