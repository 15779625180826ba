import path from 'node:path';
import { DEFAULT_MODELS, MODEL_UPGRADE_MODES, parseEnvironment } from '@lookalike/core';
import { z } from 'zod';

const list = z.string().transform((v) =>
  v
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== ''),
);

const schema = z.object({
  /**
   * The Postgres the API uses: the queue and the data live there. Required: the embedded
   * engine belongs to the API process, which runs its worker in-process.
   */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL'),
  /** Where image files are stored: the API's DATA_DIR (shared storage across machines). */
  DATA_DIR: z.string().min(1).default('.data'),
  /** The models to embed with (as the API's MODELS); merchants' models in use are kept loaded. */
  MODELS: list.pipe(z.array(z.string().min(1)).min(1, 'name at least one model')).optional(),
  MODEL_UPGRADE: z.enum(MODEL_UPGRADE_MODES as ['auto', 'off']).default('off'),
  INFERENCE_DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  /** Import rows per batch and pollers (see WorkerOptions). */
  WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(8),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
  /** As the API's: private hosts and CIDRs image URLs and webhooks may reach. */
  IMAGE_FETCH_ALLOW: list.default([]),
  /**
   * An import row attempt still running after this long is taken to be dead (a killed worker)
   * and retried (default 300 s; see the queue definition in @lookalike/core).
   */
  WORKER_EXPIRE_SECONDS: z.coerce.number().int().min(5).max(3600).optional(),
  /** How often expired attempts are looked for, seconds (default 30). */
  QUEUE_MAINTENANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /**
   * The longest a stop (SIGTERM, SIGINT) may take, ms (default 10 s). The batches in hand get
   * all but 2 s of it (1 s at least) to finish; jobs still running then are failed, to be retried
   * by another worker at once, and the worker exits 0. Should the rest hang past the limit, the
   * process exits 1, and rows still running are retried once their attempt expires
   * (WORKER_EXPIRE_SECONDS). Keep it under the orchestrator's grace before SIGKILL
   * (`docker stop`: 10 s, compose's stop_grace_period).
   */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /** Send webhook deliveries from this worker (default true). */
  WORKER_WEBHOOKS: z
    .enum(['true', 'false', '1', '0'])
    .transform((v) => v === 'true' || v === '1')
    .default(true),
});

/** The variables this app reads and their rules (tooling/deploy checks docker-compose.yml against them). */
export { schema as envSchema };

export type WorkerConfig = Omit<z.infer<typeof schema>, 'MODELS'> & {
  MODELS: string[];
  dataDir: string;
};

/** Parse the environment once, at boot; a bad value stops the process with its name. */
export function loadConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  const data = parseEnvironment(schema, env);
  const base = env.INIT_CWD ?? process.cwd();
  return {
    ...data,
    MODELS: data.MODELS ?? [...DEFAULT_MODELS],
    dataDir: path.resolve(base, data.DATA_DIR),
  };
}
