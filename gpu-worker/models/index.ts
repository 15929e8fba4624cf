import type { DetectorModelName } from '../../config/index.js';
import type { ModelAdapter } from './adapter.js';
import { picodet } from './picodet.js';
import { yolox } from './yolox.js';

/** Every detector model the configuration can name, with its input layout and output decoding. */
export const detectorAdapters: Record<DetectorModelName, ModelAdapter> = {
  yolox_nano_416_coco: yolox,
  picodet_s_416_coco: picodet,
};
