import type { Db } from '../../db/database.js';
import { AccountRepository } from '../../db/repositories/accounts.js';
import { displayPrefix, generateApiToken, hashApiToken } from '../../domain/api-token.js';

/** A new API token for `account` (created when missing), as `npm run vigil -- token create` makes one. */
export async function createApiToken(db: Db, account: string, role: 'user' | 'admin' = 'user'): Promise<string> {
  const accounts = new AccountRepository(db);
  const token = generateApiToken();
  await accounts.addToken(await accounts.findOrCreate(account), { hash: hashApiToken(token), prefix: displayPrefix(token), role });
  return token;
}
