import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { AccountRepository } from '../../db/repositories/accounts.js';
import { TenancyRepository, type TenancyNames } from '../../db/repositories/tenancy.js';
import { hashApiToken } from '../../domain/api-token.js';
import { migratedDatabase } from '../support/database.js';
import { seedAccount, seedCamera, seedJob } from '../support/seed.js';
import { waitFor } from '../support/wait.js';

const db = migratedDatabase();
const accounts = () => new AccountRepository(db());
const tenancy = () => new TenancyRepository(db());

const noNames: TenancyNames = { groupName: null, siteName: null, zoneName: null, siteCategory: 'commercial', siteAddress: null };

/** The group, site and camera rows behind a camera id. */
const rowsOf = (cameraId: string) =>
  db()
    .selectFrom('cameras')
    .innerJoin('sites', 'sites.id', 'cameras.site_id')
    .innerJoin('user_groups', 'user_groups.id', 'sites.group_id')
    .select(['user_groups.id as groupId', 'user_groups.name as groupName', 'sites.id as siteId', 'sites.name as siteName', 'sites.category', 'sites.address', 'cameras.name as cameraName'])
    .where('cameras.id', '=', cameraId)
    .executeTakeFirstOrThrow();

describe('accounts and API tokens', () => {
  test('findOrCreate makes an account once per name', async () => {
    const id = await accounts().findOrCreate('acme-accounts');
    assert.equal(await accounts().findOrCreate('acme-accounts'), id);
    assert.equal(await accounts().findIdByName('acme-accounts'), id);
    assert.equal(await accounts().findIdByName('nobody'), undefined);
  });

  test('a token authenticates its account until it is revoked, and the listing counts it', async () => {
    const accountId = await accounts().findOrCreate('acme-tokens');
    const [kept, revoked] = [hashApiToken('vgl_kept'), hashApiToken('vgl_revoked')];
    await accounts().addToken(accountId, { hash: kept, prefix: 'vgl_kept', role: 'admin' });
    await accounts().addToken(accountId, { hash: revoked, prefix: 'vgl_revo', role: 'user' });
    const found = await accounts().findActiveToken(kept);
    assert.deepEqual([found?.accountId, found?.accountName, found?.role], [accountId, 'acme-tokens', 'admin']);

    assert.equal(await accounts().revokeToken(revoked), true);
    assert.equal(await accounts().revokeToken(revoked), false, 'already revoked');
    assert.equal(await accounts().findActiveToken(revoked), undefined);
    await seedJob(db(), await seedCamera(db(), accountId));
    const listed = (await accounts().list()).find((a) => a.name === 'acme-tokens');
    assert.deepEqual([listed?.activeTokens, listed?.jobs], [1, 1]);
  });
});

describe('groups, sites and cameras', () => {
  test('ensureCamera creates the group, site and camera once, with default names, per account', async () => {
    const accountId = await seedAccount(db());
    const ref = { groupId: 'g100', siteId: 's100', zoneId: 'z100' };
    const id = await tenancy().ensureCamera(accountId, ref, 'residential');
    assert.equal(await tenancy().ensureCamera(accountId, ref, 'commercial'), id);
    const rows = await rowsOf(id);
    assert.deepEqual([rows.groupName, rows.siteName, rows.cameraName, rows.category], ['group_g100', 'site_s100', 'zone_z100', 'residential']);

    const neighbour = await rowsOf(await tenancy().ensureCamera(accountId, { ...ref, zoneId: 'z101' }, 'residential'));
    assert.deepEqual([neighbour.groupId, neighbour.siteId], [rows.groupId, rows.siteId], 'a second zone of the site shares its rows');

    const theirs = await rowsOf(await tenancy().ensureCamera(await seedAccount(db()), ref, 'residential'));
    assert.notEqual(theirs.groupId, rows.groupId);
    assert.notEqual(theirs.siteId, rows.siteId);
  });

  test('concurrent first submissions of one camera get the same camera', async () => {
    const accountId = await seedAccount(db());
    const ref = { groupId: 'g200', siteId: 's200', zoneId: 'z200' };
    const ids = await Promise.all(Array.from({ length: 6 }, () => tenancy().ensureCamera(accountId, ref, 'commercial')));
    assert.equal(new Set(ids).size, 1);
    const cameras = await db().selectFrom('cameras').select('id').where('account_id', '=', accountId).execute();
    assert.equal(cameras.length, 1);
  });

  test('applySubmission applies the names given, keeps those left out, and returns the site', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const site = await tenancy().applySubmission(camera.accountId, camera.id, {
      groupName: 'North',
      siteName: 'Depot',
      zoneName: 'Gate',
      siteCategory: 'industrial',
      siteAddress: '1 Dock Road, Leeds',
    });
    assert.deepEqual([site.category, site.address, site.cachedTimezone], ['industrial', '1 Dock Road, Leeds', null]);
    await tenancy().applySubmission(camera.accountId, camera.id, { ...noNames, zoneName: 'Back gate' });
    const rows = await rowsOf(camera.id);
    assert.deepEqual(
      [rows.groupName, rows.siteName, rows.cameraName, rows.category, rows.address, rows.siteId],
      ['North', 'Depot', 'Back gate', 'commercial', '1 Dock Road, Leeds', site.siteDbId],
    );
    await assert.rejects(tenancy().applySubmission(await seedAccount(db()), camera.id, noNames), "another account's camera");
    assert.equal((await rowsOf(camera.id)).cameraName, 'Back gate');
  });

  test("a site's time zone is cached for the address it was resolved from", async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const at = (siteAddress: string | null) => tenancy().applySubmission(camera.accountId, camera.id, { ...noNames, siteAddress });
    const { siteDbId } = await at('1 Dock Road, Leeds');
    await tenancy().cacheTimezone(camera.accountId, siteDbId, '1 Dock Road, Leeds', 'Europe/London');
    assert.deepEqual((await at(null)).cachedTimezone, { timezone: 'Europe/London' }, 'no address given: the known one stays');
    assert.equal((await at('5 Harbour St, Sydney')).cachedTimezone, null, 'a new address needs a new lookup');
    await tenancy().cacheTimezone(camera.accountId, siteDbId, '5 Harbour St, Sydney', null);
    assert.deepEqual((await at('5 Harbour St, Sydney')).cachedTimezone, { timezone: null }, 'an address that could not be resolved is not looked up again');
    await tenancy().cacheTimezone(await seedAccount(db()), siteDbId, '5 Harbour St, Sydney', 'Asia/Tokyo');
    assert.deepEqual((await at(null)).cachedTimezone, { timezone: null }, "another account cannot write the site's zone");
  });
});

describe('the camera cooldown', () => {
  test('a second claim within the cooldown is refused with the time left; after it, it is granted', async () => {
    const accountId = await seedAccount(db());
    const [camera, other] = [await seedCamera(db(), accountId), await seedCamera(db(), accountId)];
    assert.deepEqual(await tenancy().claimCooldown(accountId, camera.id, 60), { claimed: true });
    const refused = await tenancy().claimCooldown(accountId, camera.id, 60);
    assert.equal(refused.claimed, false);
    assert.ok(!refused.claimed && refused.retryAfterSeconds >= 59 && refused.retryAfterSeconds <= 60, JSON.stringify(refused));
    assert.deepEqual(await tenancy().claimCooldown(accountId, other.id, 60), { claimed: true }, 'cameras cool down separately');
    assert.deepEqual(await tenancy().claimCooldown(accountId, camera.id, 0), { claimed: true }, 'no cooldown configured');

    // The cooldown ran out: the last alarm was accepted 61 s ago.
    await db().updateTable('cameras').set({ last_alarm_at: sql`now() - interval '61 seconds'` }).where('id', '=', camera.id).execute();
    assert.deepEqual(await tenancy().claimCooldown(accountId, camera.id, 60), { claimed: true });
    assert.equal((await tenancy().claimCooldown(await seedAccount(db()), other.id, 0)).claimed, false, "another account's camera");
  });

  test('lockCamera holds the next submission to the same camera until the first ends, and no other camera', async () => {
    const accountId = await seedAccount(db());
    const [camera, other] = [await seedCamera(db(), accountId), await seedCamera(db(), accountId)];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let lockTaken!: () => void;
    const firstLocked = new Promise<void>((resolve) => (lockTaken = resolve));
    const first = db().transaction().execute(async (trx) => {
      await new TenancyRepository(trx).lockCamera(accountId, camera.id);
      lockTaken();
      await released;
    });
    await firstLocked;

    await db().transaction().execute((trx) => new TenancyRepository(trx).lockCamera(accountId, other.id));
    let secondLocked = false;
    const second = db().transaction().execute(async (trx) => {
      await new TenancyRepository(trx).lockCamera(accountId, camera.id);
      secondLocked = true;
    });
    await waitFor('the second lock to wait for the first', async () => {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`.execute(db());
      return rows[0]!.n === 1;
    });
    assert.equal(secondLocked, false);
    release();
    await Promise.all([first, second]);
    assert.equal(secondLocked, true);
  });

  test('of concurrent claims on one camera, exactly one wins', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const claims = await Promise.all(Array.from({ length: 6 }, () => tenancy().claimCooldown(camera.accountId, camera.id, 60)));
    assert.equal(claims.filter((c) => c.claimed).length, 1, JSON.stringify(claims));
  });
});
