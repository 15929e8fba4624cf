import {
  defaultFrameQualitySettings,
  judgeFrameQuality,
  measureFrameQuality,
  measuringOf,
  type FrameQualitySettings,
  type QualityReport,
} from '../../domain/frame-quality.js';
import type { GreyFrame } from '../../domain/motion.js';

/** Measures and flags every frame of an event, in order, as the detection worker and the analysis do in two steps; `disabled` flags are never raised. */
export function assessFrameQuality(
  frames: readonly GreyFrame[],
  settings: FrameQualitySettings = defaultFrameQualitySettings,
  disabled: readonly string[] = [],
): QualityReport {
  return judgeFrameQuality(measureFrameQuality(frames, measuringOf(settings)), settings, disabled);
}
