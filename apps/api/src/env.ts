import path from 'node:path';
import {
  API_KEY_PATTERN,
  DEFAULT_CACHE_TTL_MS,
  DEFAULT_MODELS,
  MODEL_UPGRADE_MODES,
  parseEnvironment,
} from '@lookalike/core';
import { z } from 'zod';

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Milliseconds, at most an hour; 0 turns the limit off. */
const timeout = z.coerce.number().int().min(0).max(3_600_000);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Native Postgres; unset: embedded PGlite under DATA_DIR. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  /** Registered with all scopes on first start, instead of a generated key. */
  BOOTSTRAP_API_KEY: z
    .string()
    .regex(API_KEY_PATTERN, 'must look like lk_<12 letters/digits>_<40 letters/digits>')
    .optional(),
  /** Largest accepted upload, bytes (default 10 MB). */
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(10 * 1024 * 1024),
  /** Largest catalog file importCatalog accepts, bytes (default 100 MiB). */
  MAX_IMPORT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(100 * 1024 * 1024),
  /**
   * Requests per minute per API key; 0 turns rate limiting off. Shared by every replica on
   * native Postgres (counted in the database), per process on the embedded engine.
   */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600),
  /**
   * Import rows per minute per merchant (importCatalog, importProducts): a budget of its own,
   * apart from the request limit; 0 turns it off.
   */
  IMPORT_ROWS_PER_MINUTE: z.coerce.number().int().min(0).default(100_000),
  /**
   * How long one request may take to arrive, headers and body (ms; 0: no limit). Answering is
   * not counted: once the body is in, a slow import or search runs to its end. 60 s carries a
   * 100 MiB catalog file at 14 Mbit/s; raise it for larger files over slower links.
   */
  REQUEST_TIMEOUT_MS: timeout.default(60_000),
  /** How long the request line and headers may take to arrive (ms; 0: no limit). */
  HEADERS_TIMEOUT_MS: timeout.default(10_000),
  /**
   * How long a request body may stall, no byte arriving, before the answer is 408 and the
   * connection is closed (ms; 0: no limit). Bodies are read only after the key is checked.
   */
  BODY_IDLE_TIMEOUT_MS: timeout.default(15_000),
  /**
   * Hosts and CIDRs the image fetcher and webhook deliveries may reach although they are
   * private (an internal image server), comma-separated; empty by default: only public
   * addresses are fetched.
   */
  IMAGE_FETCH_ALLOW: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((m) => m.trim())
        .filter((m) => m !== ''),
    )
    .default([]),
  /**
   * Run the job worker (imports, webhook deliveries) inside the API process. `auto`: on the
   * embedded engine only (no other process can open its database); with DATABASE_URL, run
   * `apps/worker` processes instead.
   */
  WORKER: z.enum(['auto', 'on', 'off']).default('auto'),
  /**
   * The models this process loads, comma-separated: bundled ids (the newest bundled version:
   * `fashion-resnet`), bundled keys (exactly that version: `fashion-resnet-v1`) or model
   * directories (models/<dir>/model.json). The first is the default a fresh database starts on;
   * which model serves a merchant is kept in the database (activateModel switches it). Bundled
   * models a merchant is served by or re-indexing to are loaded too.
   */
  MODELS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((m) => m.trim())
        .filter((m) => m !== ''),
    )
    .pipe(z.array(z.string().min(1)).min(1, 'name at least one model'))
    .optional(),
  /** The single-model spelling of earlier versions; MODELS wins when both are set. */
  MODEL: z.string().min(1).optional(),
  /**
   * `auto`: on start, every merchant served by an older version of the default model (same
   * manifest id, lower version) is re-indexed to it in the background and switched when every
   * image has a vector. `off`: merchants stay where they are (the log says which).
   */
  MODEL_UPGRADE: z.enum(MODEL_UPGRADE_MODES as ['auto', 'off']).default('auto'),
  INFERENCE_DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  /**
   * The product detector (a bundled id or a model directory): similarProducts searches the main
   * product it finds in a photo, and `objects` and detectProducts answer every product. `none`
   * turns detection off: whole photos are searched and detectProducts is refused.
   */
  DETECTOR: z
    .string()
    .trim()
    .min(1)
    .default('product-detector')
    .transform((v) => (v.toLowerCase() === 'none' ? null : v)),
  /** Seed the demo catalog on first start (empty catalog). */
  DEMO_CATALOG: flag.default(true),
  /** Public base URL for image links (default: from the request's Host). */
  PUBLIC_URL: z.url().optional(),
  /**
   * How long a verified API key and a merchant's serving model and settings are trusted in
   * process before the database is asked again (ms; 0: ask on every request).
   */
  CACHE_TTL_MS: z.coerce.number().int().min(0).max(300_000).default(DEFAULT_CACHE_TTL_MS),
});

/** The variables this app reads and their rules (tooling/deploy checks docker-compose.yml against them). */
export { schema as envSchema };

type Parsed = z.infer<typeof schema>;
export type ApiConfig = Omit<Parsed, 'MODELS' | 'MODEL'> & {
  /** The models to load, the default first. */
  MODELS: string[];
  dataDir: string;
};

/**
 * Parse the environment once, at boot. A bad value stops the process with the
 * variable's name; nothing else reads process.env.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const data = parseEnvironment(schema, env);
  // npm runs workspace scripts in the workspace folder: a relative DATA_DIR means where npm ran.
  const base = env.INIT_CWD ?? process.cwd();
  const { MODELS, MODEL, ...rest } = data;
  return {
    ...rest,
    MODELS: MODELS ?? (MODEL ? [MODEL] : [...DEFAULT_MODELS]),
    dataDir: path.resolve(base, data.DATA_DIR),
  };
}

/** Configuration for tests and embedding: defaults plus overrides, no environment. */
export function testConfig(overrides: Partial<ApiConfig> = {}): ApiConfig {
  return { ...loadConfig({ NODE_ENV: 'test', DEMO_CATALOG: 'false' }), ...overrides };
}
