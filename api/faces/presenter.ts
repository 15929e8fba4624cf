import type { AllowlistEntry } from '../../db/repositories/faces.js';

export function presentAllowlistEntry(entry: AllowlistEntry) {
  return { id: entry.id, name: entry.name, photo_count: entry.photos, created_at: entry.createdAt.toISOString() };
}
