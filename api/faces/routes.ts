import { Router } from '@koa/router';
import { addAllowlistEntry, listAllowlist, MAX_ALLOWLIST_PHOTOS, removeAllowlistEntry, type FaceDescriber } from '../../commands/face-allowlist.js';
import type { AccountRepository } from '../../db/repositories/accounts.js';
import type { Db } from '../../db/database.js';
import type { Logger } from '../../logging/logger.js';
import { authenticate, authenticateRequest, presentedToken } from '../auth.js';
import { ApiError, envelope, notFound, validationError } from '../errors.js';
import { readMultipartForm, type MultipartLimits } from '../multipart.js';
import type { UploadMemory } from '../upload-memory.js';
import { parseInput } from '../validate.js';
import { presentAllowlistEntry } from './presenter.js';
import { allowlistFields, allowlistParams } from './schema.js';

export interface FaceRouteDeps {
  db: Db;
  accounts: AccountRepository;
  logger: Logger;
  uploadMemory: UploadMemory;
  maxImageBytes: number;
  /** The face models, opened on the first photo that needs them. */
  describer: () => Promise<FaceDescriber>;
}

const photoFieldNames = new Set(['photos', 'photos[]']);

export function faceRoutes(deps: FaceRouteDeps): Router {
  const router = new Router({ prefix: '/api/v1/faces' });
  const formLimits: MultipartLimits = { files: MAX_ALLOWLIST_PHOTOS, fileBytes: deps.maxImageBytes, fields: 5, fieldBytes: 1024 };

  router.post('/allowlist', async (ctx) => {
    if (!ctx.is('multipart/form-data')) throw validationError('body', 'Send the name and photos as multipart/form-data.');
    const auth = await authenticate(deps.accounts, presentedToken(ctx, undefined));
    const memory = deps.uploadMemory.share();
    try {
      const form = await readMultipartForm(ctx, {
        limits: formLimits,
        memory,
        beforeFirstFile: async () => undefined,
        tooManyFiles: () => validationError('photos', `Send 1 to ${MAX_ALLOWLIST_PHOTOS} photos.`),
      });
      const stray = form.files.find((file) => !photoFieldNames.has(file.field));
      if (stray) throw validationError(stray.field, `Unexpected file field ${stray.field}; send the photos as photos.`);
      const { name } = parseInput(allowlistFields, form.fields);
      if (form.files.length === 0) throw validationError('photos', `Send 1 to ${MAX_ALLOWLIST_PHOTOS} photos.`);
      const result = await addAllowlistEntry({ db: deps.db, describer: deps.describer }, auth.accountId, name, form.files.map((file) => file.bytes));
      if (result.outcome === 'refused') {
        const { refusal } = result;
        if (refusal.code === 'FACE_ANALYSIS_DISABLED') throw new ApiError(403, refusal.code, refusal.message);
        throw new ApiError(400, refusal.code, refusal.message, { field: `photos[${refusal.photo}]` });
      }
      // The name only: never a descriptor.
      deps.logger.info({ accountId: auth.accountId, entryId: result.entry.id, photos: result.entry.photos }, 'face allowlist entry added');
      ctx.status = 201;
      ctx.body = envelope(presentAllowlistEntry(result.entry));
    } finally {
      memory.release();
    }
  });

  router.get('/allowlist', async (ctx) => {
    const auth = await authenticateRequest(deps.accounts, ctx);
    ctx.body = envelope({ items: (await listAllowlist(deps.db, auth.accountId)).map(presentAllowlistEntry) });
  });

  router.delete('/allowlist/:id', async (ctx) => {
    const auth = await authenticateRequest(deps.accounts, ctx);
    const { id } = parseInput(allowlistParams, ctx.params);
    if (!(await removeAllowlistEntry(deps.db, auth.accountId, id))) throw notFound('Allowlist entry');
    ctx.status = 204;
  });

  return router;
}
