import type { DetectorOptions } from './detector.js';
import type { DetectionWorkerMetrics } from '../observability/metrics.js';

/**
 * For a detector's `onInference`: each frame's inference into `vigil_detector_frame_duration_seconds`,
 * labelled with the detector's model and device.
 */
export function observeInference(
  metrics: Pick<DetectionWorkerMetrics, 'detectorFrameDuration'>,
): NonNullable<DetectorOptions['onInference']> {
  return (ms, { model, device }) => metrics.detectorFrameDuration.observe({ model, device }, ms / 1000);
}
