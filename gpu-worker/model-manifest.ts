import type { DetectorModelName } from '../config/index.js';
import type { ExpectedFile } from '../downloads/verified-download.js';

/** A model Vigil can fetch by itself: its exact bytes, its licence, and public copies of those bytes. */
export interface ModelManifestEntry extends ExpectedFile {
  bytes: number;
  licence: { name: string; url: string };
  /** Tried in order; each pinned to a commit, so the bytes behind it never change. */
  urls: readonly string[];
  what: string;
}

/**
 * Every model Vigil can use that `npm ci` does not bring. Sizes and sha256 are those of the files the
 * project was developed and tested with; every URL serves exactly those bytes (the git blob at that path
 * and commit, or the Git LFS object with that sha256).
 */
export const modelManifest = {
  yolox_nano_416_coco: {
    what: 'COCO-80 detector, YOLOX-Nano 416x416 (the default DETECTOR_MODEL)',
    fileName: 'yolox_nano_416_coco.onnx',
    bytes: 3_660_092,
    sha256: '695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14',
    licence: {
      name: 'Apache-2.0',
      url: 'https://github.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample/blob/3d4f1119d0694200671c08069ecb847aa0d8495a/LICENSE',
    },
    urls: [
      'https://raw.githubusercontent.com/Kazuhito00/YOLOX-ONNX-TFLite-Sample/3d4f1119d0694200671c08069ecb847aa0d8495a/model/yolox_nano.onnx',
      'https://raw.githubusercontent.com/Kazuhito00/MOT-Tracking-by-Detection-Pipeline/e50a76b8b430b778276e7fd04fd4cafd5d45eab2/Detector/yolox/model/yolox_nano_416x416.onnx',
    ],
  },
  picodet_s_416_coco: {
    what: 'COCO-80 detector, PP-PicoDet-S 416x416 (the default DETECTOR_CASCADE_MODEL)',
    fileName: 'picodet_s_416_coco.onnx',
    bytes: 4_040_573,
    sha256: 'cdab77bdde16e4f76bec734c4e5791801d1739e4c7ec1995e0e110e04300d0c2',
    // The file is PaddleDetection's published export; the repository serving it names no licence of its own.
    licence: {
      name: 'Apache-2.0',
      url: 'https://github.com/PaddlePaddle/PaddleDetection/blob/666f597fd00d3157e84dd9fb2dd3f40bf9918ebc/LICENSE',
    },
    urls: ['https://raw.githubusercontent.com/hpc203/picodet-onnxruntime/dfe4d6cd0a18cd4126ee381e81df8a0b1e6ad97b/coco/picodet_s_416_coco.onnx'],
  },
  yunet_n_dynamic_face: {
    what: 'face detector with 5 landmarks, YuNet-n, any input size',
    fileName: 'yunet_n_dynamic_face.onnx',
    bytes: 322_906,
    sha256: '104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12',
    licence: {
      name: 'Apache-2.0',
      url: 'https://github.com/ShiqiYu/libfacedetection.train/blob/0047ac24afb1a50a0c6105001c89d1b5b805dbf1/LICENSE',
    },
    urls: ['https://raw.githubusercontent.com/ShiqiYu/libfacedetection.train/0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/yunet_n_dynamic.onnx'],
  },
  mobilenetv2_12_int8_imagenet: {
    what: 'ImageNet-1k classifier, MobileNetV2-1.0 int8 (ONNX Model Zoo)',
    fileName: 'mobilenetv2_12_int8_imagenet.onnx',
    bytes: 3_655_033,
    sha256: 'cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f',
    licence: { name: 'Apache-2.0', url: 'https://github.com/onnx/models/blob/b1eeaa1ac722dcc1cd1a8284bde34393dab61c3d/LICENSE' },
    urls: [
      'https://media.githubusercontent.com/media/onnx/models/b1eeaa1ac722dcc1cd1a8284bde34393dab61c3d/validated/vision/classification/mobilenet/model/mobilenetv2-12-int8.onnx',
      'https://raw.githubusercontent.com/Lawrence-lugs/MARP/4eb1e15524758aa3ba9e42edf398a71bd66ccb74/onnx_models/mobilenetv2-12-int8.onnx',
    ],
  },
} satisfies Record<DetectorModelName | 'yunet_n_dynamic_face' | 'mobilenetv2_12_int8_imagenet', ModelManifestEntry>;

export type ModelName = keyof typeof modelManifest;

export const modelNames = Object.keys(modelManifest) as ModelName[];
