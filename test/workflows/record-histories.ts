/**
 * Records the histories the replay test replays: `npx tsx test/workflows/record-histories.ts <version> [scenario…]`
 * runs each alarm scenario and each other kind's scenario (all when none is named) with stub activities on a
 * local Temporal server and writes its history to histories/<version>/alarm-<scenario>.json or <kind scenario>.json. After a change to workflow code, record the
 * new code under a new version name: every version's histories keep replaying, so workflows started by any
 * deployed version survive the next deploy.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyToJson } from '../support/history-json.js';
import { startWorkflowEnv } from '../support/workflow-env.js';
import { alarmScenarios, runAlarm, type AlarmScenario } from './alarm-scenarios.js';
import { kindScenarios, type KindScenario } from './kind-scenarios.js';

const historiesDir = fileURLToPath(new URL('histories/', import.meta.url));

const [version, ...requested] = process.argv.slice(2);
if (!version || !/^[a-z0-9-]+$/.test(version)) {
  console.error('Name the workflow code version first (lower-case letters, digits and -), then the scenarios if not all.');
  process.exit(2);
}
const known = [...Object.keys(alarmScenarios), ...Object.keys(kindScenarios)];
const unknown = requested.filter((name) => !known.includes(name));
if (unknown.length > 0) {
  console.error(`Unknown scenario(s) ${unknown.join(', ')}; expected: ${known.join(', ')}.`);
  process.exit(2);
}
const scenarios = requested.length > 0 ? requested : known;

await mkdir(path.join(historiesDir, version), { recursive: true });
const env = await startWorkflowEnv();
try {
  for (const scenario of scenarios) {
    const isAlarm = scenario in alarmScenarios;
    const { handle } = isAlarm ? await runAlarm(env, alarmScenarios[scenario as AlarmScenario]()) : await kindScenarios[scenario as KindScenario](env);
    const file = path.join(historiesDir, version, isAlarm ? `alarm-${scenario}.json` : `${scenario}.json`);
    await writeFile(file, `${historyToJson(await handle.fetchHistory())}\n`);
    console.log(`${scenario}: ${(await handle.describe()).status.name}, written to ${path.relative(process.cwd(), file)}`);
  }
} finally {
  await env.stop();
}
