import type { Db } from '../database.js';
import type { TokenRole } from '../schema.js';

export interface AuthenticatedToken {
  tokenId: string;
  accountId: string;
  accountName: string;
  role: TokenRole;
}

/** The active token whose hash is `hash`, as an `AuthenticatedToken`: a query other reads join onto (JobRepository.statusForToken). */
export const activeTokenQuery = (db: Db, hash: string) =>
  db
    .selectFrom('api_tokens')
    .innerJoin('accounts', 'accounts.id', 'api_tokens.account_id')
    .select(['api_tokens.id as tokenId', 'accounts.id as accountId', 'accounts.name as accountName', 'api_tokens.role'])
    .where('api_tokens.token_hash', '=', hash)
    .where('api_tokens.revoked_at', 'is', null);

export interface AccountSummary {
  name: string;
  createdAt: Date;
  activeTokens: number;
  jobs: number;
}

export class AccountRepository {
  constructor(private readonly db: Db) {}

  async findOrCreate(name: string): Promise<string> {
    const inserted = await this.db
      .insertInto('accounts')
      .values({ name })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) return inserted.id;
    const existing = await this.db.selectFrom('accounts').select('id').where('name', '=', name).executeTakeFirstOrThrow();
    return existing.id;
  }

  async findIdByName(name: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('accounts').select('id').where('name', '=', name).executeTakeFirst();
    return row?.id;
  }

  async addToken(accountId: string, token: { hash: string; prefix: string; role: TokenRole }): Promise<void> {
    await this.db
      .insertInto('api_tokens')
      .values({ account_id: accountId, token_hash: token.hash, token_prefix: token.prefix, role: token.role })
      .execute();
  }

  /** Revokes by the token's hash; returns whether an active token was revoked. */
  async revokeToken(hash: string): Promise<boolean> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('token_hash', '=', hash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async findActiveToken(hash: string): Promise<AuthenticatedToken | undefined> {
    return activeTokenQuery(this.db, hash).executeTakeFirst();
  }

  async list(): Promise<AccountSummary[]> {
    const rows = await this.db
      .selectFrom('accounts')
      .select((eb) => [
        'accounts.name',
        'accounts.created_at',
        eb
          .selectFrom('api_tokens')
          .select((sub) => sub.fn.countAll<number>().as('n'))
          .whereRef('api_tokens.account_id', '=', 'accounts.id')
          .where('api_tokens.revoked_at', 'is', null)
          .as('active_tokens'),
        eb
          .selectFrom('jobs')
          .select((sub) => sub.fn.countAll<number>().as('n'))
          .whereRef('jobs.account_id', '=', 'accounts.id')
          .as('jobs'),
      ])
      .orderBy('accounts.name')
      .execute();
    return rows.map((r) => ({
      name: r.name,
      createdAt: r.created_at,
      activeTokens: Number(r.active_tokens ?? 0),
      jobs: Number(r.jobs ?? 0),
    }));
  }
}
