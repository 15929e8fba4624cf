import { readdirSync } from 'node:fs';
import os from 'node:os';
import type { Logger } from '../logging/logger.js';

/**
 * Lowers this process's CPU priority to niceness `nice` (WORKER_NICE), for the worker roles: where they share
 * cores with the API, PostgreSQL and the Temporal server, the kernel then runs those first whenever they have work,
 * and the workers still get every cycle nobody else wants. Raising niceness needs no privilege; one already at
 * `nice` or above (started under `nice`) is left as it is, so this never asks for more priority than it has.
 *
 * On Linux niceness belongs to each thread, and a thread inherits it from the thread that creates it: the threads
 * Node started before this ran (V8's platform workers, the module loader's) are lowered one by one, and those
 * started afterwards (libuv's pool, ONNX Runtime's and Temporal's Rust core's threads, all created from these)
 * inherit it. Elsewhere niceness is the process's. Returns the niceness of the process's threads afterwards.
 */
export function lowerOwnPriority(nice: number, logger: Logger): number {
  const threads = os.platform() === 'linux' ? linuxThreadIds() : [0];
  let lowest = Infinity;
  for (const thread of threads) {
    try {
      const current = os.getPriority(thread);
      if (current < nice) os.setPriority(thread, nice);
      lowest = Math.min(lowest, Math.max(current, nice));
    } catch (error) {
      // A thread that ended between the listing and here has nothing left to lower.
      if ((error as { info?: { code?: string } }).info?.code === 'ESRCH') continue;
      logger.warn({ err: error, nice }, 'could not lower the process priority; it runs at its current priority');
      return os.getPriority(0);
    }
  }
  return lowest === Infinity ? os.getPriority(0) : lowest;
}

function linuxThreadIds(): number[] {
  return readdirSync('/proc/self/task').map(Number);
}
