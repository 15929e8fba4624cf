import type { DetectionCategory } from './types.js';

/**
 * The object types (COCO class names) Vigil's detector reports, and the category each belongs to.
 * Detections created through the API use the same vocabulary, so every detection has a category.
 */
export const objectTypeCategories: Readonly<Record<string, DetectionCategory>> = {
  person: 'person',
  bicycle: 'vehicle',
  car: 'vehicle',
  motorcycle: 'vehicle',
  bus: 'vehicle',
  truck: 'vehicle',
  knife: 'weapon',
  'baseball bat': 'weapon',
};

export const objectTypes = Object.keys(objectTypeCategories);

export function categoryOfObjectType(objectType: string): DetectionCategory | undefined {
  return Object.hasOwn(objectTypeCategories, objectType) ? objectTypeCategories[objectType] : undefined;
}
