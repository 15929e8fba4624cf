import { sql } from 'kysely';
import type { SecretKeyring } from '../../domain/secret-keyring.js';
import type { Db } from '../database.js';
import type { WebhookDeliveryStatus, WebhookTrigger } from '../schema.js';

export interface WebhookTargetInput {
  url: string;
  secret: string | null;
}

export interface NewWebhookDelivery {
  id: string;
  accountId: string;
  jobId: string;
  targetId: string;
  webhookId: string;
  eventType: string;
  trigger: WebhookTrigger;
  payload: string;
}

/** What one attempt needs: the stored body and the target's current URL and secret (null once removed). */
export interface DeliveryToSend {
  id: string;
  jobId: string;
  webhookId: string;
  payload: string;
  status: WebhookDeliveryStatus;
  target: { url: string; secret: string | null } | null;
}

export interface AttemptRecord {
  attempt: number;
  url: string | null;
  attemptedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

/** A delivery as its owner may see it: no secret, no payload. */
export interface DeliverySummary {
  id: string;
  webhookId: string;
  eventType: string;
  trigger: WebhookTrigger;
  status: WebhookDeliveryStatus;
  createdAt: Date;
  finishedAt: Date | null;
  attempts: AttemptRecord[];
}

/** Stored secrets sealed again per batch by `resealSecrets`. */
const resealBatch = 500;

/**
 * Webhook targets, deliveries and attempts; every query is scoped by account. Target secrets are sealed with
 * `secrets` on the way in and opened on the way out, so the table never holds one in plain text.
 */
export class WebhookRepository {
  constructor(
    private readonly db: Db,
    private readonly secrets: SecretKeyring,
  ) {}

  async setAccountDefault(accountId: string, target: WebhookTargetInput): Promise<void> {
    const stored = { url: target.url, ...this.sealed(target.secret), updated_at: sql<Date>`now()` };
    await this.db
      .insertInto('webhook_targets')
      .values({ account_id: accountId, job_id: null, ...stored })
      .onConflict((oc) => oc.column('account_id').where('job_id', 'is', null).doUpdateSet(stored))
      .execute();
  }

  /** Returns whether there was a default to remove; deliveries still pending for it stop at their next attempt. */
  async clearAccountDefault(accountId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('webhook_targets')
      .where('account_id', '=', accountId)
      .where('job_id', 'is', null)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async setJobTarget(accountId: string, jobId: string, target: WebhookTargetInput): Promise<void> {
    await this.db
      .insertInto('webhook_targets')
      .values({ account_id: accountId, job_id: jobId, url: target.url, ...this.sealed(target.secret), updated_at: sql`now()` })
      .execute();
  }

  /**
   * A target the account keeps under a name in place of a job id (e.g. where VMS incidents are forwarded):
   * set or replaced, read by that name only, removed. Deliveries to it are recorded like any other.
   */
  async setNamedTarget(accountId: string, name: string, target: WebhookTargetInput): Promise<void> {
    const stored = { url: target.url, ...this.sealed(target.secret), updated_at: sql<Date>`now()` };
    await this.db
      .insertInto('webhook_targets')
      .values({ account_id: accountId, job_id: name, ...stored })
      .onConflict((oc) => oc.columns(['account_id', 'job_id']).where('job_id', 'is not', null).doUpdateSet(stored))
      .execute();
  }

  async namedTargetId(accountId: string, name: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('webhook_targets').select('id').where('account_id', '=', accountId).where('job_id', '=', name).executeTakeFirst();
    return row?.id;
  }

  async clearNamedTarget(accountId: string, name: string): Promise<boolean> {
    const result = await this.db.deleteFrom('webhook_targets').where('account_id', '=', accountId).where('job_id', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** The job's own target, else the account's default. */
  async resolveTargetId(accountId: string, jobId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('webhook_targets')
      .select('id')
      .where('account_id', '=', accountId)
      .where((eb) => eb.or([eb('job_id', '=', jobId), eb('job_id', 'is', null)]))
      .orderBy(sql`job_id is null`)
      .limit(1)
      .executeTakeFirst();
    return row?.id;
  }

  /** Idempotent on the delivery id, so a retried activity does not create a second delivery. */
  async createDelivery(delivery: NewWebhookDelivery): Promise<void> {
    await this.db
      .insertInto('webhook_deliveries')
      .values({
        id: delivery.id,
        account_id: delivery.accountId,
        job_id: delivery.jobId,
        target_id: delivery.targetId,
        webhook_id: delivery.webhookId,
        event_type: delivery.eventType,
        trigger: delivery.trigger,
        payload: delivery.payload,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  async deliveryToSend(accountId: string, deliveryId: string): Promise<DeliveryToSend | undefined> {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .leftJoin('webhook_targets', 'webhook_targets.id', 'webhook_deliveries.target_id')
      .select([
        'webhook_deliveries.id',
        'webhook_deliveries.job_id',
        'webhook_deliveries.webhook_id',
        'webhook_deliveries.payload',
        'webhook_deliveries.status',
        'webhook_targets.url',
        'webhook_targets.secret',
        'webhook_targets.secret_key_id',
      ])
      .where('webhook_deliveries.account_id', '=', accountId)
      .where('webhook_deliveries.id', '=', deliveryId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      id: row.id,
      jobId: row.job_id,
      webhookId: row.webhook_id,
      payload: row.payload,
      status: row.status,
      target: row.url === null ? null : { url: row.url, secret: this.opened(row.secret, row.secret_key_id) },
    };
  }

  /**
   * Seals again, under the current key, the stored secrets of every account that need it: `plaintext` those
   * stored before secrets were sealed, `stale` also those sealed under another key. A secret replaced meanwhile
   * keeps its new value. Returns how many were sealed.
   */
  async resealSecrets(which: 'plaintext' | 'stale'): Promise<number> {
    let resealed = 0;
    let after: string | undefined;
    for (;;) {
      let batch = this.db
        .selectFrom('webhook_targets')
        .select(['id', 'account_id', 'secret', 'secret_key_id'])
        .where('secret', 'is not', null)
        .where((eb) =>
          which === 'plaintext'
            ? eb('secret_key_id', 'is', null)
            : eb.or([eb('secret_key_id', 'is', null), eb('secret_key_id', '!=', this.secrets.currentKeyId)]),
        )
        .orderBy('id')
        .limit(resealBatch);
      if (after) batch = batch.where('id', '>', after);
      const rows = await batch.execute();
      for (const row of rows) {
        const updated = await this.db
          .updateTable('webhook_targets')
          .set(this.sealed(this.opened(row.secret, row.secret_key_id)))
          .where('account_id', '=', row.account_id)
          .where('id', '=', row.id)
          .where('secret', '=', row.secret!)
          .where(sql<boolean>`secret_key_id is not distinct from ${row.secret_key_id}`)
          .executeTakeFirst();
        resealed += Number(updated.numUpdatedRows);
      }
      if (rows.length < resealBatch) return resealed;
      after = rows.at(-1)!.id;
    }
  }

  async recordAttempt(accountId: string, deliveryId: string, attempt: AttemptRecord): Promise<void> {
    await this.db
      .insertInto('webhook_attempts')
      .values({
        account_id: accountId,
        delivery_id: deliveryId,
        attempt: attempt.attempt,
        url: attempt.url,
        attempted_at: attempt.attemptedAt,
        duration_ms: attempt.durationMs,
        status_code: attempt.statusCode,
        error: attempt.error,
      })
      .execute();
  }

  /** Ends a pending delivery; a delivery that has already ended keeps its status. */
  async finishDelivery(accountId: string, deliveryId: string, status: Exclude<WebhookDeliveryStatus, 'pending'>): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ status, finished_at: sql`now()` })
      .where('account_id', '=', accountId)
      .where('id', '=', deliveryId)
      .where('status', '=', 'pending')
      .execute();
  }

  async listForJob(accountId: string, jobId: string): Promise<DeliverySummary[]> {
    const deliveries = await this.db
      .selectFrom('webhook_deliveries')
      .select(['id', 'webhook_id', 'event_type', 'trigger', 'status', 'created_at', 'finished_at'])
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    if (deliveries.length === 0) return [];
    const attempts = await this.db
      .selectFrom('webhook_attempts')
      .select(['delivery_id', 'attempt', 'url', 'attempted_at', 'duration_ms', 'status_code', 'error'])
      .where('account_id', '=', accountId)
      .where(
        'delivery_id',
        'in',
        deliveries.map((d) => d.id),
      )
      .orderBy('attempted_at')
      .execute();
    return deliveries.map((d) => ({
      id: d.id,
      webhookId: d.webhook_id,
      eventType: d.event_type,
      trigger: d.trigger,
      status: d.status,
      createdAt: d.created_at,
      finishedAt: d.finished_at,
      attempts: attempts
        .filter((a) => a.delivery_id === d.id)
        .map((a) => ({
          attempt: a.attempt,
          url: a.url,
          attemptedAt: a.attempted_at,
          durationMs: a.duration_ms,
          statusCode: a.status_code,
          error: a.error,
        })),
    }));
  }

  private sealed(secret: string | null): { secret: string | null; secret_key_id: string | null } {
    if (secret === null) return { secret: null, secret_key_id: null };
    const { keyId, sealed } = this.secrets.seal(secret);
    return { secret: sealed, secret_key_id: keyId };
  }

  /** A row's secret in plain text: opened, or as stored before secrets were sealed (no key id). */
  private opened(secret: string | null, keyId: string | null): string | null {
    if (secret === null || keyId === null) return secret;
    return this.secrets.open({ keyId, sealed: secret });
  }
}
