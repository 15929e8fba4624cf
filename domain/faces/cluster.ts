/**
 * Faces seen over a video (or in one image) grouped into distinct people, in spec 2's `person_ids`
 * shape. Greedy clustering on the descriptors: faces, best first, join the person whose mean descriptor
 * is nearest within the threshold, never one already seen in the same frame. Pure.
 */
import type { Box } from '../types.js';
import { matchAllowlist, type AllowlistDescriptor } from './allowlist-match.js';
import { euclidean } from './verification.js';

/**
 * Most distance from a face to a person's mean descriptor. Lower than FACE_MATCH_THRESHOLD (face to face): the
 * mean of unit vectors is shorter, so every face lies nearer to it. On the labelled face fixtures (34 faces of 7
 * people, each its own frame; BENCHMARKS.md "Faces") thresholds from 0.80 to 0.84 give exactly the 7 people, 0.78
 * splits two of them, 0.86 merges two young men of one recording session (0.9 merges three); 0.82 is the middle.
 */
export const FACE_CLUSTER_THRESHOLD = 0.82;

export interface ClusterFace {
  /** Seconds into the video (0 for an image); faces of one frame share it. */
  time: number;
  box: Box;
  /** The frame's size, for the face's share of it. */
  frameWidth: number;
  frameHeight: number;
  score: number;
  age: number;
  gender: 'male' | 'female' | 'unidentified';
  /** Absent when the account's face analysis is off (nothing of the face was stored). */
  descriptor?: ArrayLike<number>;
  /** JPEG bytes of the face. */
  thumbnail?: Uint8Array;
}

export interface PersonId {
  age: number;
  gender: 'male' | 'female' | 'unidentified';
  face_embedding?: number[];
  /** Base64 JPEG of the person's best face. */
  face_thumbnail?: string;
  allowlisted: boolean;
  /** Face size and screen time against the most prominent person of the same video or scene, 0–1. */
  relative_prominence: number;
}

export interface TimeSegment {
  start_seconds: number;
  end_seconds: number;
}

export interface ClusterOptions {
  /** Off: no embedding, no thumbnail, no allowlist matching. */
  faceAnalysis: boolean;
  allowlist?: readonly AllowlistDescriptor[];
  /** Most descriptor distance to a person's mean for a face to be theirs. Default FACE_CLUSTER_THRESHOLD. */
  threshold?: number;
}

interface Cluster {
  faces: ClusterFace[];
  sum: number[];
}

/** The distinct people among the faces, most prominent first. */
export function clusterPeople(faces: readonly ClusterFace[], options: ClusterOptions): PersonId[] {
  const groups = groupFaces(faces, options.threshold ?? FACE_CLUSTER_THRESHOLD).map((cluster) => cluster.faces);
  return groups.map((group) => describePerson(group, groups, options)).sort((a, b) => b.relative_prominence - a.relative_prominence);
}

/**
 * Per scene, the people seen in it: one clustering over the whole video, so a person keeps one embedding in
 * every scene. Without descriptors each scene counts its own people (the faces of its busiest frame).
 */
export function personConstellationScenes(
  scenes: readonly TimeSegment[],
  faces: readonly ClusterFace[],
  options: ClusterOptions,
): { time_segment: TimeSegment; person_ids: PersonId[] }[] {
  const described = faces.every((face) => face.descriptor);
  const people = described ? groupFaces(faces, options.threshold ?? FACE_CLUSTER_THRESHOLD) : [];
  return scenes.map((scene, index) => {
    const last = index === scenes.length - 1;
    const inScene = (face: ClusterFace) => face.time >= scene.start_seconds && (face.time < scene.end_seconds || (last && face.time <= scene.end_seconds));
    const sceneGroups = described ? people : groupWithoutDescriptors(faces.filter(inScene));
    const groups = sceneGroups.map((person) => ({ person, faces: person.faces.filter(inScene) })).filter((group) => group.faces.length > 0);
    const all = groups.map((group) => group.faces);
    return {
      time_segment: scene,
      person_ids: groups
        .map((group) => describePerson(group.faces, all, options, group.person))
        .sort((a, b) => b.relative_prominence - a.relative_prominence),
    };
  });
}

function groupFaces(faces: readonly ClusterFace[], threshold: number): Cluster[] {
  if (faces.some((face) => !face.descriptor)) return groupWithoutDescriptors(faces);
  const clusters: Cluster[] = [];
  for (const face of [...faces].sort((a, b) => b.score - a.score)) {
    const descriptor = face.descriptor!;
    let best: Cluster | null = null;
    let bestDistance = threshold;
    for (const cluster of clusters) {
      if (cluster.faces.some((other) => other.time === face.time)) continue;
      const distance = euclidean(descriptor, mean(cluster));
      if (distance < bestDistance) {
        bestDistance = distance;
        best = cluster;
      }
    }
    if (best) {
      best.faces.push(face);
      for (let i = 0; i < best.sum.length; i++) best.sum[i]! += descriptor[i]!;
    } else {
      clusters.push({ faces: [face], sum: Array.from(descriptor) });
    }
  }
  return clusters;
}

/**
 * Without descriptors, who is who cannot be told: there are as many people as faces in the frame that
 * shows the most, each described by that frame's face.
 */
function groupWithoutDescriptors(faces: readonly ClusterFace[]): Cluster[] {
  const byFrame = new Map<number, ClusterFace[]>();
  for (const face of faces) byFrame.set(face.time, [...(byFrame.get(face.time) ?? []), face]);
  const busiest = [...byFrame.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  return busiest.map((face) => ({ faces: [face], sum: [] }));
}

function mean(cluster: Cluster): number[] {
  return cluster.sum.map((value) => value / cluster.faces.length);
}

function describePerson(faces: readonly ClusterFace[], everyone: readonly (readonly ClusterFace[])[], options: ClusterOptions, whole?: Cluster): PersonId {
  const best = faces.reduce((a, b) => (b.score * faceShare(b) > a.score * faceShare(a) ? b : a));
  const ages = faces.map((face) => face.age).sort((a, b) => a - b);
  const person: PersonId = {
    age: Math.round(ages[Math.floor(ages.length / 2)]! * 10) / 10,
    gender: majorityGender(faces),
    allowlisted: false,
    relative_prominence: prominence(faces, everyone),
  };
  if (!options.faceAnalysis) return person;
  const embeddingSource = whole ?? { faces: [...faces], sum: [] };
  const descriptors = embeddingSource.faces.flatMap((face) => (face.descriptor ? [face.descriptor] : []));
  if (descriptors.length > 0) {
    const centre = Array.from({ length: descriptors[0]!.length }, (_, i) => descriptors.reduce((sum, d) => sum + d[i]!, 0) / descriptors.length);
    person.face_embedding = centre.map((value) => Math.round(value * 1e4) / 1e4);
    person.allowlisted = faces.some((face) => face.descriptor && matchAllowlist(face.descriptor, options.allowlist ?? []) !== null);
  }
  if (best.thumbnail) person.face_thumbnail = Buffer.from(best.thumbnail).toString('base64');
  return person;
}

/** A gender when most of the faces that have one agree on it; otherwise unidentified. */
function majorityGender(faces: readonly ClusterFace[]): PersonId['gender'] {
  const male = faces.filter((face) => face.gender === 'male').length;
  const female = faces.filter((face) => face.gender === 'female').length;
  if (male === female) return 'unidentified';
  return male > female ? 'male' : 'female';
}

function faceShare(face: ClusterFace): number {
  const [x1, y1, x2, y2] = face.box;
  return (Math.max(0, x2 - x1) * Math.max(0, y2 - y1)) / Math.max(1, face.frameWidth * face.frameHeight);
}

/** Half the face's size (square root of its mean share of the frame), half its screen time (frames seen), each against the largest among everyone. */
function prominence(faces: readonly ClusterFace[], everyone: readonly (readonly ClusterFace[])[]): number {
  const size = (group: readonly ClusterFace[]) => Math.sqrt(group.reduce((sum, face) => sum + faceShare(face), 0) / group.length);
  const time = (group: readonly ClusterFace[]) => new Set(group.map((face) => face.time)).size;
  const maxSize = Math.max(...everyone.map(size));
  const maxTime = Math.max(...everyone.map(time));
  const value = 0.5 * (maxSize > 0 ? size(faces) / maxSize : 0) + 0.5 * (maxTime > 0 ? time(faces) / maxTime : 0);
  return Math.round(value * 100) / 100;
}
