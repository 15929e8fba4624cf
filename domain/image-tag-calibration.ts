/** Platt scaling of one model's score: p = sigmoid(a · logit(score) + b). */
export interface Platt {
  a: number;
  b: number;
}

/** A tag family's calibration: both models together, and the detector alone (for the kinds it names: car, dog, …). */
export interface FamilyCalibration {
  /** [bias, detector weight, classifier weight] over the logits of the family's evidence. */
  joint: readonly [number, number, number];
  detector: Platt;
}

/**
 * Fitted by scripts/calibrate-tags.ts on 124 labelled fixture pictures (yolox_nano_416_coco + mobilenetv2_12_int8_imagenet):
 * person: n=98 (positive 43); log loss raw 0.194, calibrated 0.105, 5-fold 0.131
 *   raw score (best of the two models):
 *     [0.0, 0.1) n=51 predicted 0.01 observed 0.02
 *     [0.1, 0.3) n=9 predicted 0.19 observed 0.44
 *     [0.3, 0.5) n=2 predicted 0.41 observed 1.00
 *     [0.5, 0.7) n=2 predicted 0.57 observed 1.00
 *     [0.7, 0.9) n=25 predicted 0.84 observed 1.00
 *     [0.9, 1.0) n=9 predicted 0.93 observed 1.00
 *   calibrated (in sample):
 *     [0.0, 0.1) n=47 predicted 0.01 observed 0.00
 *     [0.1, 0.3) n=6 predicted 0.19 observed 0.33
 *     [0.3, 0.5) n=2 predicted 0.43 observed 0.50
 *     [0.5, 0.7) n=4 predicted 0.57 observed 0.50
 *     [0.7, 0.9) n=2 predicted 0.81 observed 0.50
 *     [0.9, 1.0) n=37 predicted 0.99 observed 1.00
 *   calibrated (5-fold cross-validated):
 *     [0.0, 0.1) n=49 predicted 0.01 observed 0.02
 *     [0.1, 0.3) n=4 predicted 0.22 observed 0.25
 *     [0.3, 0.5) n=3 predicted 0.44 observed 0.67
 *     [0.5, 0.7) n=3 predicted 0.57 observed 0.33
 *     [0.7, 0.9) n=1 predicted 0.86 observed 1.00
 *     [0.9, 1.0) n=38 predicted 0.99 observed 0.97
 * vehicle: n=124 (positive 71); log loss raw 0.312, calibrated 0.089, 5-fold 0.111
 *   raw score (best of the two models):
 *     [0.0, 0.1) n=52 predicted 0.02 observed 0.02
 *     [0.1, 0.3) n=12 predicted 0.19 observed 1.00
 *     [0.3, 0.5) n=5 predicted 0.39 observed 0.60
 *     [0.5, 0.7) n=1 predicted 0.60 observed 1.00
 *     [0.7, 0.9) n=50 predicted 0.81 observed 1.00
 *     [0.9, 1.0) n=4 predicted 0.92 observed 1.00
 *   calibrated (in sample):
 *     [0.0, 0.1) n=47 predicted 0.01 observed 0.00
 *     [0.1, 0.3) n=3 predicted 0.16 observed 0.33
 *     [0.3, 0.5) n=2 predicted 0.34 observed 0.00
 *     [0.5, 0.7) n=3 predicted 0.61 observed 1.00
 *     [0.7, 0.9) n=8 predicted 0.83 observed 1.00
 *     [0.9, 1.0) n=61 predicted 1.00 observed 0.97
 *   calibrated (5-fold cross-validated):
 *     [0.0, 0.1) n=47 predicted 0.01 observed 0.02
 *     [0.1, 0.3) n=3 predicted 0.15 observed 0.00
 *     [0.3, 0.5) n=3 predicted 0.39 observed 0.33
 *     [0.7, 0.9) n=10 predicted 0.80 observed 1.00
 *     [0.9, 1.0) n=61 predicted 1.00 observed 0.97
 * animal: n=124 (positive 9); log loss raw 0.447, calibrated 0.148, 5-fold 0.167
 *   raw score (best of the two models):
 *     [0.0, 0.1) n=86 predicted 0.02 observed 0.02
 *     [0.1, 0.3) n=12 predicted 0.12 observed 0.00
 *     [0.3, 0.5) n=5 predicted 0.41 observed 0.00
 *     [0.5, 0.7) n=3 predicted 0.56 observed 0.00
 *     [0.7, 0.9) n=12 predicted 0.79 observed 0.17
 *     [0.9, 1.0) n=6 predicted 0.94 observed 0.83
 *   calibrated (in sample):
 *     [0.0, 0.1) n=110 predicted 0.02 observed 0.02
 *     [0.1, 0.3) n=5 predicted 0.22 observed 0.00
 *     [0.3, 0.5) n=3 predicted 0.41 observed 0.67
 *     [0.5, 0.7) n=2 predicted 0.56 observed 0.50
 *     [0.7, 0.9) n=3 predicted 0.75 observed 1.00
 *     [0.9, 1.0) n=1 predicted 0.95 observed 1.00
 *   calibrated (5-fold cross-validated):
 *     [0.0, 0.1) n=109 predicted 0.02 observed 0.02
 *     [0.1, 0.3) n=6 predicted 0.21 observed 0.00
 *     [0.3, 0.5) n=3 predicted 0.34 observed 1.00
 *     [0.5, 0.7) n=4 predicted 0.60 observed 0.50
 *     [0.7, 0.9) n=1 predicted 0.70 observed 1.00
 *     [0.9, 1.0) n=1 predicted 0.96 observed 1.00
 */
export const tagCalibration: Record<'person' | 'vehicle' | 'animal', FamilyCalibration> = {
  person: { joint: [2.9112, 1.9365, 0], detector: { a: 1.9365, b: 2.9112 } },
  vehicle: { joint: [17.4137, 2.3499, 3.0064], detector: { a: 1.3821, b: 3.7377 } },
  animal: { joint: [-0.4448, 0.7189, 0.2222], detector: { a: 0.997, b: -0.1416 } },
};
