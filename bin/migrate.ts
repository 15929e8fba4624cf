import { loadConfig } from '../config/index.js';
import { migrateToLatest } from '../db/migrator.js';

const applied = await migrateToLatest(loadConfig().database.url);
console.log(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'Database is up to date.');
