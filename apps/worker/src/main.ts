// A worker process: parse the environment once, open the core on the shared Postgres, consume
// the job queue (import rows, webhook deliveries) until a signal, then drain and close.
import { openCore } from '@lookalike/core';
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
const core = await openCore({
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
const worker = await core.startWorker({
  batchSize: config.WORKER_BATCH_SIZE,
  concurrency: config.WORKER_CONCURRENCY,
  webhooks: config.WORKER_WEBHOOKS,
  log,
});
const models = core.registry
  .infos()
  .map((i) => `${i.key} on ${i.executionProvider}`)
  .join(', ');
console.log(`Lookalike worker ${process.pid} started; models ${models}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`${signal}: finishing the batches in hand, then stopping`);
    void worker
      .stop()
      .then(() => core.close())
      .then(() => process.exit(0));
  });
}
