import type { JobLifecycleInput } from './job.js';

/**
 * The image-batch workflow's input: identifiers and a count only. The items (their media keys and results)
 * live in `image_batch_items`; the workflow reads them a chunk at a time, so no list of a whole batch
 * passes through its history.
 */
export interface ImageBatchWorkflowInput extends JobLifecycleInput {
  itemCount: number;
}

export interface ImageBatchOutcome {
  jobId: string;
  finished: number;
  failed: number;
}

/** One stored image for the detection worker: the item's index in the batch and its media key. */
export interface ImageRef {
  index: number;
  key: string;
}

export type AnalyseImagesInput = { jobId: string; images: ImageRef[] } & (
  | {
      /** For the detection worker's log lines. */
      accountId?: string;
      facesText?: false;
    }
  | {
      accountId: string;
      /** Also read the faces and text of the images, stored under the job (`media_faces`, `media_text_lines`). */
      facesText: true;
    }
);

/** The best score of one COCO class in the image. */
export interface ObjectScore {
  label: string;
  score: number;
}

/** What the models saw in one image, before it becomes tags (domain/image-tags.ts). */
export interface ImageSignals {
  /** The best score of each COCO class found at or above the analysis threshold, best first. */
  objects: ObjectScore[];
  /** ImageNet group probabilities (imagenet_groups.json) of at least 0.01, most probable first. */
  groups: { group: string; probability: number }[];
  /** Dark, or grey-scale and dim (an IR night picture). */
  lowLight: boolean;
}

export type AnalysedImage = ({ signals: ImageSignals } | { error: { code: string; message: string } }) & { index: number };

export type AnalyseImagesResult = AnalysedImage[];
