import type { Detector } from '../gpu-worker/detector.js';
import type { DetectionWorkerMetrics } from './metrics.js';

/** The detector, with each frame's inference timed into `vigil_detector_frame_duration_seconds`. */
export function timedDetector(detector: Detector, metrics: Pick<DetectionWorkerMetrics, 'detectorFrameDuration'>): Detector {
  const labels = { model: detector.info.model, device: detector.info.device };
  return {
    ...detector,
    async infer(frame) {
      const stop = metrics.detectorFrameDuration.startTimer(labels);
      try {
        return await detector.infer(frame);
      } finally {
        stop();
      }
    },
  };
}
