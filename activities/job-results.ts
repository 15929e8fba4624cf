import type { JobRepository } from '../db/repositories/jobs.js';
import type { DocumentedJobKind } from '../db/schema.js';
import type { JobKind } from '../domain/job-kinds.js';
import { loadAlarmExport, presentExport } from './alarm-export.js';
import { loadVideoDocument } from './video-document.js';

type ResultDocumentLoader = (jobs: JobRepository, accountId: string, jobId: string) => Promise<unknown>;

/**
 * Each kind's result document of a finished job: exactly what its family's result endpoint returns, and the
 * `data` of its `<kind>.finished` webhook. A new kind adds its loader here.
 */
const resultDocuments: Record<DocumentedJobKind, ResultDocumentLoader> = {
  alarm: async (jobs, accountId, jobId) => {
    const exported = await loadAlarmExport(jobs, accountId, jobId);
    return exported && presentExport(exported);
  },
  video: loadVideoDocument,
};

export function resultDocumentLoader(kind: JobKind): ResultDocumentLoader | undefined {
  return kind in resultDocuments ? resultDocuments[kind as DocumentedJobKind] : undefined;
}
