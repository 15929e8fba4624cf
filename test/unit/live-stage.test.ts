import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { recentAnswers } from '../../api/alarms/live-stage.js';

/** An asker that counts its calls per key and answers when told to. */
function countingAsker() {
  const calls = new Map<string, number>();
  const pending: Array<() => void> = [];
  const ask = (key: string) => {
    const call = (calls.get(key) ?? 0) + 1;
    calls.set(key, call);
    return new Promise<string>((resolve) => pending.push(() => resolve(`${key}#${call}`)));
  };
  const answerAll = async () => {
    for (const answer of pending.splice(0)) answer();
    await Promise.resolve();
    await Promise.resolve();
  };
  return { ask, calls, answerAll };
}

describe('recentAnswers (the live stage asked of a workflow at most once per 200 ms)', () => {
  test('calls while an answer is under way share it', async () => {
    let now = 1_000;
    const asker = countingAsker();
    const read = recentAnswers(asker.ask, 200, () => now);
    const waiting = [read('job-a'), read('job-a'), read('job-a')];
    now += 5_000; // an answer under way stands however long it takes
    waiting.push(read('job-a'));
    await asker.answerAll();
    assert.deepEqual(await Promise.all(waiting), ['job-a#1', 'job-a#1', 'job-a#1', 'job-a#1']);
    assert.equal(asker.calls.get('job-a'), 1);
  });

  test('an answer stands for maxAge after it came, then the key is asked again', async () => {
    let now = 1_000;
    const asker = countingAsker();
    const read = recentAnswers(asker.ask, 200, () => now);
    const first = read('job-a');
    await asker.answerAll();
    assert.equal(await first, 'job-a#1');
    now += 199;
    assert.equal(await read('job-a'), 'job-a#1');
    now += 1;
    const second = read('job-a');
    await asker.answerAll();
    assert.equal(await second, 'job-a#2');
  });

  test('keys are answered apart, and a failed answer is asked again once it expires', async () => {
    let now = 1_000;
    let failing = true;
    const calls: string[] = [];
    const read = recentAnswers(
      async (key) => {
        calls.push(key);
        if (failing) throw new Error('no answer');
        return key;
      },
      200,
      () => now,
    );
    await assert.rejects(read('job-a'), /no answer/);
    assert.equal(await read('job-b').catch(() => 'failed'), 'failed');
    failing = false;
    await assert.rejects(read('job-a'), /no answer/);
    now += 200;
    assert.equal(await read('job-a'), 'job-a');
    assert.deepEqual(calls, ['job-a', 'job-b', 'job-a']);
  });
});
