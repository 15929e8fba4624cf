import type { FrameRef } from './alarm-verification.js';

/** The detection worker's `classifyFrames` activity: the ImageNet classifier over stored frames. */
export interface ClassifyFramesInput {
  jobId: string;
  /** For the detection worker's log lines; callers outside a job may leave it out. */
  accountId?: string;
  frames: FrameRef[];
}

export interface FrameClass {
  synset: string;
  label: string;
  probability: number;
}

export interface FrameGroup {
  /** A group of `imagenet_groups.json`, e.g. `dog`, `spider`, `road_vehicle`. */
  group: string;
  /** Sum of the softmax probabilities of the group's classes. */
  probability: number;
}

/** One frame's classes and groups, each list short and most probable first. */
export interface FrameClassification {
  frameIndex: number;
  top: FrameClass[];
  groups: FrameGroup[];
}

export type ClassifyFramesResult = FrameClassification[];
