// A worker process: parse the environment once, open the core on the shared Postgres, consume
// the job queue (import rows, webhook deliveries) until SIGTERM or SIGINT, then drain (the
// batches in hand finish, within SHUTDOWN_TIMEOUT_MS), close and exit 0.
import { openCore, type Core, type Worker } from '@lookalike/core';
import { loadConfig, type WorkerConfig } from './env.js';

let config: WorkerConfig;
try {
  config = loadConfig();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const log = (m: string) => {
  console.log(m);
};

// Signals are ours from the first moment: one that comes while the worker starts stops it as
// soon as it is up. A second one exits at once.
// An object, not `let`s: the signal handler changes it between the awaits below.
const state: { stopping: boolean; stop?: () => Promise<void> } = { stopping: false };
function onSignal(signal: NodeJS.Signals) {
  if (state.stopping) {
    console.log(`second ${signal}: exiting now; the rows in hand are retried once they expire`);
    process.exit(1);
  }
  state.stopping = true;
  console.log(`${signal}: finishing the batches in hand, then stopping`);
  setTimeout(() => {
    console.error(
      `Not stopped after ${config.SHUTDOWN_TIMEOUT_MS / 1000} s (SHUTDOWN_TIMEOUT_MS): exiting; ` +
        'the rows still running are retried once they expire.',
    );
    process.exit(1);
  }, config.SHUTDOWN_TIMEOUT_MS).unref();
  void state.stop?.();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, onSignal);

let core: Core;
let worker: Worker;
try {
  core = await openCore({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.dataDir,
    models: config.MODELS,
    device: config.INFERENCE_DEVICE,
    modelUpgrade: config.MODEL_UPGRADE,
    imageFetch: { allow: config.IMAGE_FETCH_ALLOW },
    queue: {
      maintenanceIntervalSeconds: config.QUEUE_MAINTENANCE_SECONDS,
      ...(config.WORKER_EXPIRE_SECONDS ? { expireInSeconds: config.WORKER_EXPIRE_SECONDS } : {}),
    },
    // Workers also take re-indexes (the Backfiller's leases on the database decide which process
    // runs each one), so GPU machines do that embedding too.
    log,
  });
  worker = await core.startWorker({
    batchSize: config.WORKER_BATCH_SIZE,
    concurrency: config.WORKER_CONCURRENCY,
    webhooks: config.WORKER_WEBHOOKS,
    log,
  });
} catch (error) {
  // Expected refusals (an unreachable database) carry a code and a message that says what to
  // do; anything else is shown whole.
  const coded = error instanceof Error && typeof (error as { code?: unknown }).code === 'string';
  console.error(coded ? error.message : error);
  process.exit(1);
}
const models = core.registry
  .infos()
  .map((i) => `${i.key} on ${i.executionProvider}`)
  .join(', ');
console.log(`Lookalike worker ${process.pid} started; models ${models}`);

state.stop = async () => {
  try {
    // The queue stops polling and the batches in hand finish (or are failed, to be retried, when
    // they run past their share of the limit); then the database closes.
    await worker.stop({ timeoutMs: Math.max(1_000, config.SHUTDOWN_TIMEOUT_MS - 2_000) });
    await core.close();
    console.log(`Lookalike worker ${process.pid} stopped.`);
    process.exit(0);
  } catch (error) {
    console.error('Stopping failed:', error);
    process.exit(1);
  }
};
if (state.stopping) await state.stop();
