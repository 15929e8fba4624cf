/** Sparse fieldsets: the fields a detection has, and picking the requested ones. */

export const detectionFields = [
  'id',
  'camera_id',
  'file_path',
  'file_type',
  'detected_at',
  'object_type',
  'confidence',
  'bbox_x',
  'bbox_y',
  'bbox_width',
  'bbox_height',
  'thumbnail_path',
  'media_type',
  'duration',
  'video_codec',
  'video_width',
  'video_height',
  'enrichment_data',
] as const;
export type DetectionField = (typeof detectionFields)[number];

const known: ReadonlySet<string> = new Set(detectionFields);

/** `id,camera_id` → the fields in the order given, without repeats; or the names that are not fields. */
export function parseFieldList(value: string): { fields: DetectionField[] } | { unknown: string[] } {
  const names = [...new Set(value.split(',').map((name) => name.trim()).filter((name) => name.length > 0))];
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length > 0 || names.length === 0) return { unknown };
  return { fields: names as DetectionField[] };
}

export function pickFields<T extends Record<DetectionField, unknown>>(detection: T, fields: readonly DetectionField[] | undefined): Partial<T> {
  if (!fields) return detection;
  return Object.fromEntries(fields.map((field) => [field, detection[field]])) as Partial<T>;
}

/** Scores are stored as float4: four decimals is all they hold. */
export const roundScore = (value: number) => Number(value.toFixed(4));
