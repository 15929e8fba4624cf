import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode, type LogLevel, type WorkflowBundle } from '@temporalio/worker';
import { loadConfig } from '../../config/index.js';
import { createLogger } from '../../logging/logger.js';
import { jobMetricsSinks } from '../../observability/job-metrics-sinks.js';
import { createAnalysisWorkerMetrics } from '../../observability/metrics.js';
import { workflowsPath } from '../../temporal/analysis-worker.js';
import { findTemporalCli } from '../../temporal/cli.js';
import { vigilSearchAttributes } from '../../temporal/search-attributes.js';
import { createStubActivities, type ActivityName, type StubActivities, type VigilActivities } from './stub-activities.js';

export interface WorkflowTestEnv {
  client: Client;
  /** The worker's queue, for workflows and every activity (detection's included). */
  taskQueue: string;
  /** Registers the stub activities the workflow with this ID will run: every activity, with these overrides. */
  stubActivities(workflowId: string, overrides?: Partial<VigilActivities>): StubActivities;
  stop(): Promise<void>;
}

// Tests make activities fail on purpose, and the SDK warns of every failure: only errors are shown unless asked.
const sdkLogger = new DefaultLogger((process.env.TEST_LOG_LEVEL?.toUpperCase() ?? 'ERROR') as LogLevel);
Runtime.install({ logger: sdkLogger });

let bundle: Promise<WorkflowBundle> | undefined;

/** The workflows as the analysis worker runs them, bundled once per process. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: sdkLogger });
  return bundle;
}

/** The worker's side of the workflows' metric sinks (a sink no worker registers is logged as an error). */
export function workflowSinks() {
  return jobMetricsSinks(createAnalysisWorkerMetrics());
}

/**
 * A local Temporal server (the CLI's dev server, real time: no time skipping) and a worker running the
 * bundled workflows with stub activities. The worker routes each activity call to the stubs registered
 * for the calling workflow, so tests may run workflows with different stubs side by side.
 */
export async function startWorkflowEnv(): Promise<WorkflowTestEnv> {
  const quietLogger = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'test');
  const [cliPath, workflows] = await Promise.all([findTemporalCli(loadConfig({}), quietLogger), workflowBundle()]);
  const testEnv = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: cliPath }, searchAttributes: [...vigilSearchAttributes] },
  });
  try {
    const stubsByWorkflow = new Map<string, StubActivities>();
    const stubsOfCaller = (): StubActivities => {
      const workflowId = Context.current().info.workflowExecution?.workflowId;
      const stubs = workflowId === undefined ? undefined : stubsByWorkflow.get(workflowId);
      if (!stubs) throw new Error(`No stub activities registered for workflow ${workflowId}.`);
      return stubs;
    };
    const routed = Object.fromEntries(
      (Object.keys(createStubActivities().activities) as ActivityName[]).map((name) => [
        name,
        (input: never) => stubsOfCaller().activities[name](input),
      ]),
    );

    const taskQueue = `workflow-tests-${randomUUID()}`;
    const worker = await Worker.create({
      connection: testEnv.nativeConnection,
      namespace: testEnv.namespace,
      taskQueue,
      workflowBundle: workflows,
      activities: routed,
      sinks: workflowSinks(),
      // Cancellation reaches an activity with the answer to a heartbeat, and heartbeats are otherwise throttled
      // to 80% of the heartbeat timeout (8 s for detection); the detection worker lowers this too.
      maxHeartbeatThrottleInterval: '50ms',
    });
    const running = worker.run();

    return {
      client: testEnv.client,
      taskQueue,
      stubActivities(workflowId, overrides) {
        const stubs = createStubActivities(overrides);
        stubsByWorkflow.set(workflowId, stubs);
        return stubs;
      },
      async stop() {
        worker.shutdown();
        await running;
        await testEnv.teardown();
      },
    };
  } catch (error) {
    await testEnv.teardown();
    throw error;
  }
}
