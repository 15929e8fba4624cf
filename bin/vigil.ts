import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { createDatabase } from '../db/database.js';
import { AccountRepository } from '../db/repositories/accounts.js';
import { ClassificationThresholdRepository } from '../db/repositories/classification-thresholds.js';
import { riskThresholdsSchema } from '../domain/classification/risk.js';
import { VmsRepository } from '../db/repositories/vms.js';
import { WebhookRepository } from '../db/repositories/webhooks.js';
import { FaceRepository } from '../db/repositories/faces.js';
import { loadSecretKeyring } from './secret-keys.js';
import { displayPrefix, generateApiToken, hashApiToken } from '../domain/api-token.js';
import { identifierPattern } from '../domain/identifiers.js';
import { vmsForwardTargetName } from '../domain/vms-events.js';
import { webhookUrlProblem } from '../domain/webhooks.js';
import { assertWebhookTargetAllowed } from '../webhooks/target-guard.js';

const usage = `Usage: npm run vigil -- <command>

  token create --account <name> [--admin]   create a token (printed once; only its hash is kept)
  token revoke --token <token>               revoke a token
  accounts list                              list accounts with their active tokens and jobs
  webhook set --account <name> --url <url> [--secret <s>]
                                             the account's default webhook (jobs without their own);
                                             the secret signs deliveries and is never shown again
  webhook clear --account <name>             remove the account's default webhook
  faces enable --account <name>              turn face analysis on for the account (descriptors, thumbnails,
                                             the allowlist); it is off until an operator turns it on
  faces disable --account <name>             turn it off again (faces already stored stay with their jobs)
  classify thresholds set --account <name> [--camera <id>] --low <0-1> --high <0-1>
                                             risk thresholds of clip classifications: intrusion under low is
                                             safe, under high danger, else intrusion (defaults 0.2 and 0.8);
                                             a camera's (its camera_id as requests send it) win over the account's
  classify thresholds clear --account <name> [--camera <id>]
                                             back to the account's thresholds, or to the defaults
  vms set-header --account <name> --header <name>
                                             the header the account's VMS sends its token in (besides
                                             Authorization: Bearer), e.g. X-Api-Key
  vms clear-header --account <name>          accept the VMS's token in Authorization: Bearer only
  vms forward set --account <name> --url <url> [--secret <s>]
                                             forward confirmed VMS incidents to this VMS/PSIM URL, in the
                                             VMS's event schema with Vigil's detections (signed with the secret)
  vms forward clear --account <name>         stop forwarding
  secrets rotate                             seal every stored secret again under the first key of SECRETS_KEYS
                                             (the others may go once it has run)`;

class UsageError extends Error {}

/** Headers that carry something else on every request: never a token header. */
const reservedHeaders = new Set(['authorization', 'content-type', 'content-length', 'host', 'cookie', 'user-agent', 'accept', 'connection', 'transfer-encoding']);

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      account: { type: 'string' },
      admin: { type: 'boolean', default: false },
      token: { type: 'string' },
      url: { type: 'string' },
      secret: { type: 'string' },
      camera: { type: 'string' },
      low: { type: 'string' },
      high: { type: 'string' },
      header: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const command = positionals.join(' ');
  if (values.help || command === '') {
    console.log(usage);
    return;
  }
  const config = loadConfig();
  const db = createDatabase(config.database.url, 1);
  const accounts = new AccountRepository(db);
  // Only the commands that touch secrets need the keys.
  const webhooks = async () => new WebhookRepository(db, await loadSecretKeyring(config, (message) => console.error(message)));
  try {
    switch (command) {
      case 'token create': {
        if (!values.account || !identifierPattern.test(values.account)) {
          throw new UsageError('--account must be 1 to 64 characters of A-Z, a-z, 0-9, _, . or -');
        }
        const accountId = await accounts.findOrCreate(values.account);
        const token = generateApiToken();
        const role = values.admin ? 'admin' : 'user';
        await accounts.addToken(accountId, { hash: hashApiToken(token), prefix: displayPrefix(token), role });
        console.error(`Created a ${role} token for account ${values.account}. It is shown once; store it now.`);
        console.log(token);
        return;
      }
      case 'token revoke': {
        if (!values.token) throw new UsageError('--token is required');
        const revoked = await accounts.revokeToken(hashApiToken(values.token));
        if (!revoked) throw new UsageError('No active token matches.');
        console.log(`Revoked token ${displayPrefix(values.token)}…`);
        return;
      }
      case 'webhook set': {
        const accountId = await existingAccount(accounts, values.account);
        const url = values.url ?? '';
        const problem = webhookUrlProblem(url);
        if (problem) throw new UsageError(`--url ${problem}`);
        await assertWebhookTargetAllowed(url, { allowPrivate: config.webhooks.allowPrivate }).catch((error: unknown) => {
          throw new UsageError(`--url refused: ${error instanceof Error ? error.message : String(error)}`);
        });
        await (await webhooks()).setAccountDefault(accountId, { url, secret: values.secret || null });
        console.log(`Default webhook of account ${values.account}: ${url} (${values.secret ? 'signed' : 'unsigned'})`);
        return;
      }
      case 'webhook clear': {
        const accountId = await existingAccount(accounts, values.account);
        const cleared = await (await webhooks()).clearAccountDefault(accountId);
        console.log(cleared ? `Removed the default webhook of account ${values.account}.` : `Account ${values.account} had no default webhook.`);
        return;
      }
      case 'faces enable':
      case 'faces disable': {
        const accountId = await existingAccount(accounts, values.account);
        const enabled = command === 'faces enable';
        await new FaceRepository(db).setFaceAnalysis(accountId, enabled);
        console.log(`Face analysis is ${enabled ? 'on' : 'off'} for account ${values.account}.`);
        return;
      }
      case 'classify thresholds set': {
        const accountId = await existingAccount(accounts, values.account);
        const parsed = riskThresholdsSchema.safeParse({ low: Number(values.low ?? NaN), high: Number(values.high ?? NaN) });
        if (!parsed.success) throw new UsageError('--low and --high must be numbers from 0 to 1, low not above high');
        await new ClassificationThresholdRepository(db).set(accountId, values.camera, parsed.data);
        console.log(`Risk thresholds of ${values.camera ? `camera ${values.camera} of ` : ''}account ${values.account}: low ${parsed.data.low}, high ${parsed.data.high}`);
        return;
      }
      case 'classify thresholds clear': {
        const accountId = await existingAccount(accounts, values.account);
        const cleared = await new ClassificationThresholdRepository(db).clear(accountId, values.camera);
        const whose = `${values.camera ? `camera ${values.camera} of ` : ''}account ${values.account}`;
        console.log(cleared ? `Removed the risk thresholds of ${whose}.` : `The ${whose} had no risk thresholds of its own.`);
        return;
      }
      case 'vms set-header': {
        const accountId = await existingAccount(accounts, values.account);
        const header = (values.header ?? '').trim().toLowerCase();
        // An HTTP token (RFC 9110) that is not one of the headers every request may carry for other reasons.
        if (!/^[!#$%&'*+.^_`|~0-9a-z-]{1,64}$/.test(header) || reservedHeaders.has(header)) {
          throw new UsageError('--header must be a custom header name such as X-Api-Key');
        }
        await new VmsRepository(db).setAccountSettings(accountId, { tokenHeader: header });
        console.log(`Account ${values.account}'s VMS may send its token in ${header}.`);
        return;
      }
      case 'vms clear-header': {
        const accountId = await existingAccount(accounts, values.account);
        await new VmsRepository(db).setAccountSettings(accountId, { tokenHeader: null });
        console.log(`Account ${values.account}'s VMS sends its token in Authorization: Bearer.`);
        return;
      }
      case 'vms forward set': {
        const accountId = await existingAccount(accounts, values.account);
        const url = values.url ?? '';
        const problem = webhookUrlProblem(url);
        if (problem) throw new UsageError(`--url ${problem}`);
        await assertWebhookTargetAllowed(url, { allowPrivate: config.webhooks.allowPrivate }).catch((error: unknown) => {
          throw new UsageError(`--url refused: ${error instanceof Error ? error.message : String(error)}`);
        });
        await (await webhooks()).setNamedTarget(accountId, vmsForwardTargetName, { url, secret: values.secret || null });
        console.log(`Confirmed VMS incidents of account ${values.account} are forwarded to ${url} (${values.secret ? 'signed' : 'unsigned'}).`);
        return;
      }
      case 'vms forward clear': {
        const accountId = await existingAccount(accounts, values.account);
        const cleared = await (await webhooks()).clearNamedTarget(accountId, vmsForwardTargetName);
        console.log(cleared ? `Account ${values.account} no longer forwards VMS incidents.` : `Account ${values.account} forwarded nowhere.`);
        return;
      }
      case 'secrets rotate': {
        const resealed = await (await webhooks()).resealSecrets('stale');
        console.log(`Sealed ${resealed} webhook secret${resealed === 1 ? '' : 's'} again; every stored secret is under the first key of SECRETS_KEYS now.`);
        return;
      }
      case 'accounts list': {
        const rows = await accounts.list();
        console.table(rows.map((r) => ({ account: r.name, created: r.createdAt.toISOString(), active_tokens: r.activeTokens, jobs: r.jobs })));
        return;
      }
      default:
        throw new UsageError(`Unknown command: ${command}\n\n${usage}`);
    }
  } finally {
    await db.destroy();
  }
}

async function existingAccount(accounts: AccountRepository, name: string | undefined): Promise<string> {
  if (!name) throw new UsageError('--account is required');
  const accountId = await accounts.findIdByName(name);
  if (!accountId) throw new UsageError(`No account named ${name}; create one with token create.`);
  return accountId;
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof UsageError ? error.message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
