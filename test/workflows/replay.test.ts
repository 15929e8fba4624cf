import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { historyFromJson } from '../support/history-json.js';
import { workflowBundle, workflowSinks } from '../support/workflow-env.js';
import { alarmScenarios } from './alarm-scenarios.js';
import { kindScenarios } from './kind-scenarios.js';

const historiesDir = fileURLToPath(new URL('histories/', import.meta.url));

test('every recorded history of every version replays against the current workflows', async () => {
  const versions = (await readdir(historiesDir)).sort();
  assert.ok(versions.length >= 2, 'histories of the code before and after the job lifecycle');
  const files: string[] = [];
  for (const version of versions) {
    const recorded = (await readdir(path.join(historiesDir, version))).filter((file) => file.endsWith('.json'));
    files.push(...recorded.map((file) => path.join(version, file)));
  }
  files.sort();
  // A version may record only the scenarios its change touched; together they cover every workflow type.
  const scenarioFiles = [...Object.keys(alarmScenarios).map((scenario) => `alarm-${scenario}.json`), ...Object.keys(kindScenarios).map((scenario) => `${scenario}.json`)];
  for (const file of scenarioFiles) {
    assert.ok(files.some((recorded) => path.basename(recorded) === file), `a recorded history of ${file} (record-histories.ts)`);
  }

  const histories = await Promise.all(
    files.map(async (file) => ({ workflowId: file, history: historyFromJson(await readFile(path.join(historiesDir, file), 'utf8')) })),
  );
  const replayed: string[] = [];
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle(), sinks: workflowSinks() }, histories)) {
    replayed.push(result.workflowId);
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.deepEqual(failures, []);
  assert.deepEqual(replayed.sort(), files);
});
