import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root folder. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The shared models and fixtures beside the checkout; MODELS_DIR and FIXTURES_DIR override them. */
export const modelsDir = path.resolve(process.env.MODELS_DIR ?? path.join(repoRoot, '../shared/models'));
export const fixturesDir = path.resolve(process.env.FIXTURES_DIR ?? path.join(repoRoot, '../shared/fixtures/media'));
