import { Router } from '@koa/router';
import type { Context } from 'koa';
import { loadVmsIncidentDocument } from '../../activities/vms-incident-document.js';
import { attachVmsSnapshot, ingestVmsEvent, type IngestDeps } from '../../commands/ingest-vms-event.js';
import type { AccountRepository, AuthenticatedToken } from '../../db/repositories/accounts.js';
import { VmsRepository } from '../../db/repositories/vms.js';
import { hashApiToken } from '../../domain/api-token.js';
import type { ApiMetrics } from '../../observability/metrics.js';
import { authenticate, authenticateRequest, presentedToken } from '../auth.js';
import { envelope, notFound, validationError } from '../errors.js';
import { jsonBody } from '../json-body.js';
import { refusalError } from '../job-options.js';
import { readMultipartForm } from '../multipart.js';
import type { UploadMemory } from '../upload-memory.js';
import { parseInput } from '../validate.js';
import { decodeIncidentCursor, encodeIncidentCursor, presentCamera, presentIngested } from './presenter.js';
import { incidentListQuery, incidentParams, snapshotParams, vmsEventBody } from './schema.js';

export interface VmsRouteDeps extends IngestDeps {
  accounts: AccountRepository;
  metrics: Pick<ApiMetrics, 'jobsAccepted'>;
  uploadMemory: UploadMemory;
  maxImageBytes: number;
  /** The largest event body; snapshots come base64 inside it. */
  maxEventBytes: number;
}

/**
 * The VMS family: events in the Ultinous AI Suite schema, snapshots sent after their event, the incidents Vigil
 * verified and the VMS's cameras. A VMS sends one fixed header, so besides `Authorization: Bearer` (and `?token=`
 * on reads) the token may come in the header the account configured (`npm run vigil -- vms set-header`).
 */
export function vmsRoutes(deps: VmsRouteDeps): Router {
  const router = new Router({ prefix: '/api/v1/vms' });
  const vms = new VmsRepository(deps.db);

  async function authenticateVms(ctx: Context): Promise<AuthenticatedToken> {
    if (ctx.get('authorization')) return authenticate(deps.accounts, presentedToken(ctx, undefined));
    for (const header of await vms.tokenHeaders()) {
      const value = ctx.get(header).replace(/^Bearer\s+/i, '').trim();
      if (!value) continue;
      const found = await deps.accounts.findActiveToken(hashApiToken(value));
      // A token counts in the header its own account named, nowhere else.
      if (found && (await vms.accountSettings(found.accountId))?.vms_token_header === header) return found;
    }
    return authenticateRequest(deps.accounts, ctx);
  }

  const parseEvent = jsonBody(`${Math.max(1, Math.round(deps.maxEventBytes / 1024))}kb`);

  router.post('/events', async (ctx) => {
    const auth = await authenticateVms(ctx);
    if (!ctx.is('application/json')) throw validationError('body', 'Send the event as application/json.');
    await parseEvent(ctx, async () => {
      const event = parseInput(vmsEventBody, ctx.request.body);
      const outcome = await ingestVmsEvent(deps, { accountId: auth.accountId, accountName: auth.accountName }, event);
      if (outcome.outcome === 'refused') throw refusalError(outcome.refusal);
      if (outcome.outcome === 'accepted') {
        for (const _ of outcome.incidentIds) deps.metrics.jobsAccepted.inc({ api: 'vms' });
        ctx.status = 202;
      } else {
        ctx.status = 200;
      }
      ctx.body = envelope(presentIngested(outcome));
    });
  });

  router.put('/snapshot/:event_id/:camera_technical_name', async (ctx) => {
    const auth = await authenticateVms(ctx);
    const target = parseInput(snapshotParams, ctx.params);
    if (!ctx.is('multipart/form-data')) throw validationError('body', 'Send the snapshot as multipart/form-data with one image/jpeg part.');
    const memory = deps.uploadMemory.share();
    try {
      const form = await readMultipartForm(ctx, {
        limits: { files: 1, fileBytes: deps.maxImageBytes, fields: 8, fieldBytes: 1024 },
        memory,
        beforeFirstFile: async () => undefined,
        tooManyFiles: () => validationError('snapshot', 'Send one snapshot per request.'),
      });
      const file = form.files[0];
      if (!file) throw validationError('snapshot', 'The form has no image part.');
      const outcome = await attachVmsSnapshot(
        deps,
        { accountId: auth.accountId, accountName: auth.accountName },
        { eventId: target.event_id, technicalName: target.camera_technical_name },
        file.bytes,
      );
      if (outcome.status === 'refused') throw refusalError(outcome.refusal);
      ctx.status = outcome.status === 'attached' ? 201 : 200;
      ctx.body = envelope({ status: outcome.status });
    } finally {
      memory.release();
    }
  });

  router.get('/incidents', async (ctx) => {
    const auth = await authenticateVms(ctx);
    const query = parseInput(incidentListQuery, ctx.query);
    const after = query.cursor === undefined ? undefined : decodeIncidentCursor(query.cursor);
    if (query.cursor !== undefined && !after) throw validationError('cursor', 'cursor is not a cursor this API issued.');
    const filters = { vmsCameraId: query.camera_id, type: query.type, verdict: query.verdict, from: query.from, to: query.to };
    // One more than the page: whether there is a next one.
    const ids = await vms.listIncidents(auth.accountId, filters, query.limit + 1, after);
    const page = ids.slice(0, query.limit);
    const items = (await Promise.all(page.map((id) => loadVmsIncidentDocument(deps.db, auth.accountId, id)))).filter((d) => d !== undefined);
    const last = items.at(-1);
    const nextCursor = ids.length > query.limit && last ? encodeIncidentCursor({ openedAt: new Date(last.opened_at), id: last.incident_id }) : null;
    ctx.body = envelope({ items, next_cursor: nextCursor });
  });

  router.get('/incidents/:incident_id', async (ctx) => {
    const auth = await authenticateVms(ctx);
    const { incident_id } = parseInput(incidentParams, ctx.params);
    const document = await loadVmsIncidentDocument(deps.db, auth.accountId, incident_id);
    if (!document) throw notFound('Incident');
    ctx.body = envelope(document);
  });

  router.get('/cameras', async (ctx) => {
    const auth = await authenticateVms(ctx);
    ctx.body = envelope({ items: (await vms.cameras(auth.accountId)).map(presentCamera) });
  });

  router.get('/cameras/:camera_id', async (ctx) => {
    const auth = await authenticateVms(ctx);
    const camera = (await vms.cameras(auth.accountId)).find((c) => c.vms_camera_id === ctx.params.camera_id);
    if (!camera) throw notFound('Camera');
    ctx.body = envelope(presentCamera(camera));
  });

  return router;
}
