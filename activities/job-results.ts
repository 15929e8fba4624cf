import type { Db } from '../db/database.js';
import type { JobRepository } from '../db/repositories/jobs.js';
import type { DocumentedJobKind } from '../db/schema.js';
import type { JobKind } from '../domain/job-kinds.js';
import { loadAlarmExport, presentExport } from './alarm-export.js';
import { loadImageBatchDocument } from './image-batch-document.js';
import { presentClassification } from './classification-document.js';
import { loadVmsIncidentDocument } from './vms-incident-document.js';
import { loadVideoDocument } from './video-document.js';

type ResultDocumentLoader = (jobs: JobRepository, accountId: string, jobId: string, db: Db) => Promise<unknown>;

/**
 * Each kind's result document of a finished job: exactly what its family's result endpoint returns, and the
 * `data` of its `<kind>.finished` webhook. A new kind adds its loader here.
 */
const resultDocuments: Record<DocumentedJobKind, ResultDocumentLoader> = {
  alarm: async (jobs, accountId, jobId) => {
    const exported = await loadAlarmExport(jobs, accountId, jobId);
    return exported && presentExport(exported);
  },
  image_batch: async (jobs, accountId, jobId, db) => {
    const job = await jobs.getOfKind(accountId, jobId, 'image_batch');
    return job && loadImageBatchDocument(db, job);
  },
  classification: async (jobs, accountId, jobId) => {
    const job = await jobs.getOfKind(accountId, jobId, 'classification');
    return job && presentClassification(job);
  },
  vms_incident: (_jobs, accountId, jobId, db) => loadVmsIncidentDocument(db, accountId, jobId),
  video: loadVideoDocument,
};

export function resultDocumentLoader(kind: JobKind): ResultDocumentLoader | undefined {
  return kind in resultDocuments ? resultDocuments[kind as DocumentedJobKind] : undefined;
}
