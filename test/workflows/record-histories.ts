/**
 * Records the histories the replay test replays: `npx tsx test/workflows/record-histories.ts [scenario…]`
 * runs each alarm scenario (all when none is named) with stub activities on a local Temporal server and
 * writes its history to histories/alarm-<scenario>.json. Record with the workflow code as it is before a
 * change, so the replay test shows that histories of workflows started before the change still replay.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyToJson } from '../support/history-json.js';
import { startWorkflowEnv } from '../support/workflow-env.js';
import { alarmScenarios, runAlarm, type AlarmScenario } from './alarm-scenarios.js';

const historiesDir = fileURLToPath(new URL('histories/', import.meta.url));

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !(name in alarmScenarios));
if (unknown.length > 0) {
  console.error(`Unknown scenario(s) ${unknown.join(', ')}; expected: ${Object.keys(alarmScenarios).join(', ')}.`);
  process.exit(2);
}
const scenarios = (requested.length > 0 ? requested : Object.keys(alarmScenarios)) as AlarmScenario[];

const env = await startWorkflowEnv();
try {
  for (const scenario of scenarios) {
    const run = await runAlarm(env, alarmScenarios[scenario]());
    const file = path.join(historiesDir, `alarm-${scenario}.json`);
    await writeFile(file, `${historyToJson(await run.handle.fetchHistory())}\n`);
    console.log(`${scenario}: ${run.ended.status === 'fulfilled' ? 'finished' : 'failed'}, written to ${path.relative(process.cwd(), file)}`);
  }
} finally {
  await env.stop();
}
