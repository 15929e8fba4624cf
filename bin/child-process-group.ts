import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';

interface Member {
  name: string;
  child: ChildProcess;
  /** Settles once the process is gone and its output is flushed. */
  closed: Promise<void>;
}

/**
 * Long-running child processes that live and die together: output lines are prefixed with `[name]`, an exit
 * that nobody asked for is reported once, and `stopAll` stops them with SIGTERM, then SIGKILL.
 */
export class ChildProcessGroup {
  private readonly members: Member[] = [];
  private stopping = false;

  constructor(
    private readonly logger: Logger,
    private readonly onUnexpectedExit: (name: string, description: string) => void,
  ) {
    // Last resort when the supervisor itself crashes: never leave children behind.
    process.once('exit', () => this.kill('SIGKILL'));
  }

  start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv): void {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Children log JSON lines themselves; the prefix only says which process wrote them.
    createInterface({ input: child.stdout }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
    createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));

    const closed = new Promise<void>((resolve) => {
      let reported = false;
      const report = (description: string) => {
        if (reported) return;
        reported = true;
        if (this.stopping) {
          this.logger.info(`[${name}] ${description}`);
        } else {
          this.logger.error(`[${name}] ${description} unexpectedly`);
          this.onUnexpectedExit(name, description);
        }
      };
      child.once('error', (error) => report(`failed: ${error.message}`));
      child.once('close', (code, signal) => {
        report(signal === null ? `exited with code ${code}` : `was killed by ${signal}`);
        resolve();
      });
    });
    this.members.push({ name, child, closed });
    this.logger.info({ pid: child.pid }, `[${name}] started`);
  }

  /** Sends SIGTERM to every child still running, SIGKILL to those left after `deadlineMs`. */
  async stopAll(deadlineMs: number): Promise<void> {
    this.stopping = true;
    this.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const { name, child } of this.running()) {
        this.logger.warn(`[${name}] still running ${deadlineMs} ms after SIGTERM: sending SIGKILL`);
        child.kill('SIGKILL');
      }
    }, deadlineMs);
    await Promise.all(this.members.map((member) => member.closed));
    clearTimeout(killer);
  }

  kill(signal: NodeJS.Signals): void {
    for (const { child } of this.running()) child.kill(signal);
  }

  private running(): Member[] {
    return this.members.filter(({ child }) => child.exitCode === null && child.signalCode === null);
  }
}
