// The whole product for browser tests: the real API in-process (embedded PGlite, both bundled
// models, the bundled product detector, a temporary DATA_DIR, a small demo catalog) and the built
// dashboard as a child process (`next start`) talking to it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type ApiConfig, type ApiServer } from '@lookalike/api';
import {
  loadDetector,
  modelLocation,
  seedDemoCatalog,
  type DetectedObject,
  type Detector,
} from '@lookalike/core';
import { createDb, IN_MEMORY, type Db } from '@lookalike/db';
import { createEmbedder, sha256Hex, type Embedder } from '@lookalike/inference';
import { GraphQLClient } from '@lookalike/sdk';
import { exclusive, freePort } from '@lookalike/vitest-config';

export const ADMIN_DIR = path.resolve(import.meta.dirname, '..', '..');
export const REPO_ROOT = path.resolve(ADMIN_DIR, '..', '..');

/**
 * The models the API loads, the default first: the bundled fashion model serves, the 48-d colour
 * model is there to re-index and switch to (the Models page).
 */
export const MODELS = ['fashion-resnet', 'colour-thumbnail'];

/**
 * Holds the batches a re-index embeds (Embedder.embedBatch; uploads and searches use embed and
 * pass), so a test can look at a re-index half-way: the bundled models re-index the small test
 * catalog in about a second.
 */
export class ReindexGate {
  private allowance = Infinity;
  private readonly waiting: (() => void)[] = [];

  /** Let `batches` more re-index batches through, then hold the next ones until open(). */
  holdAfter(batches: number): void {
    this.allowance = batches;
  }

  open(): void {
    this.allowance = Infinity;
    for (const release of this.waiting.splice(0)) release();
  }

  async pass(): Promise<void> {
    if (this.allowance > 0) {
      this.allowance--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
}

/** The embedder with its batches going through the gate, and its single embeds counted. */
function instrumented(embedder: Embedder, gate: ReindexGate, counts: { embeds: number }): Embedder {
  return {
    info: embedder.info,
    embed: (bytes, options) => {
      counts.embeds++;
      return embedder.embed(bytes, options);
    },
    embedBatch: async (items) => {
      await gate.pass();
      return embedder.embedBatch(items);
    },
    embedTensor: (tensor) => embedder.embedTensor(tensor),
    stats: () => embedder.stats(),
    close: (options) => embedder.close(options),
  };
}

/** The detector the API is given (createServer's `detector`; with `embedders` it is off otherwise). */
export const DETECTOR = 'product-detector';

/**
 * The bundled detector, counted; for photos a test scripts, the boxes the test says are there
 * (the real detector still runs on them: same decoding, same errors), so a test of what the
 * dashboard does with boxes does not depend on how well the current model finds them.
 */
export class ScriptedDetector implements Detector {
  calls = 0;
  private readonly scripts = new Map<string, DetectedObject[]>();
  constructor(private readonly inner: Detector) {}
  get info() {
    return this.inner.info;
  }
  script(photo: Uint8Array, objects: DetectedObject[]): void {
    this.scripts.set(sha256Hex(photo), objects);
  }
  async detect(bytes: Uint8Array, options?: Parameters<Detector['detect']>[1]) {
    this.calls++;
    const real = await this.inner.detect(bytes, options);
    const scripted = this.scripts.get(sha256Hex(bytes));
    return scripted ? { ...real, objects: scripted } : real;
  }
  close(options?: Parameters<Detector['close']>[0]) {
    return this.inner.close(options);
  }
}

export interface Stack {
  api: ApiServer;
  apiUrl: string;
  /** With the bootstrap key (all scopes). */
  client: GraphQLClient;
  key: string;
  merchantId: string;
  adminUrl: string;
  /** The dashboard's DATA_DIR (its session secret lives there). */
  adminDataDir: string;
  /** The dashboard's output, for failure messages. */
  adminLog: string[];
  /** Re-indexes (of any model) wait here while it holds. */
  reindexGate: ReindexGate;
  /** The API's product detector (the bundled one; scriptable per photo). */
  detector: ScriptedDetector;
  /** Images the API embedded one by one so far (uploads, photo searches), all models. */
  embedCalls(): number;
  stop(): Promise<void>;
}

/** Runs a command to completion; rejects with the tail of its output. */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else
        reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${out.slice(-4000)}`));
    });
  });
}

/**
 * `next build` through Turborepo: it builds @lookalike/search first and replays its cache when
 * nothing changed, so only the first run after a change pays for the build.
 */
export async function buildAdmin(): Promise<void> {
  const turbo = path.join(REPO_ROOT, 'node_modules', '.bin', 'turbo');
  await run(turbo, ['run', 'build', '--filter=@lookalike/admin', '--output-logs=errors-only'], {
    cwd: REPO_ROOT,
    // NODE_ENV as `npm start` has it (Vitest sets "test"): a production build, and one
    // Turborepo cache entry for both.
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
  });
}

/** Polls until `url` answers (any HTTP status) or the process dies; bounded. */
async function waitForHttp(url: string, child: ChildProcess, log: string[]): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (child.exitCode !== null)
      throw new Error(`next start exited with ${child.exitCode}:\n${log.join('').slice(-4000)}`);
    try {
      await fetch(url, { redirect: 'manual' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`the dashboard did not answer on ${url}:\n${log.join('').slice(-4000)}`);
}

export interface StackOptions {
  /** Demo products seeded (default 60). */
  products?: number;
  /**
   * Over the API's test config (e.g. IMAGE_FETCH_ALLOW for loopback image hosts and webhook
   * receivers, which the fetcher refuses otherwise).
   */
  config?: Partial<ApiConfig>;
}

export async function startStack({
  products = 60,
  config: extra = {},
}: StackOptions = {}): Promise<Stack> {
  // One stack at a time across the run's test files (and the README's `npm start` test): each
  // builds the dashboard into .next, which a Turborepo build rewrites even on a cache hit, under
  // the `next start` of any other.
  const release = await exclusive('dashboard');
  const apiDataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-admin-api-'));
  const adminDataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-admin-'));
  let db: Db | undefined;
  const embedders: Embedder[] = [];
  let detector: ScriptedDetector | undefined;
  const reindexGate = new ReindexGate();
  const counts = { embeds: 0 };
  let api: ApiServer | undefined;
  let admin: ChildProcess | undefined;
  const adminLog: string[] = [];
  const stop = async () => {
    if (admin && admin.exitCode === null) {
      const exited = new Promise((r) => admin?.once('exit', r));
      admin.kill('SIGTERM');
      await exited;
    }
    // A held re-index would keep the API's close waiting for it.
    reindexGate.open();
    await api?.close();
    for (const embedder of embedders) await embedder.close();
    await detector?.close();
    await db?.close();
    await rm(apiDataDir, { recursive: true, force: true });
    await rm(adminDataDir, { recursive: true, force: true });
    await release();
  };
  try {
    const built = buildAdmin();
    db = await createDb({ dataDir: IN_MEMORY, migrate: true });
    for (const model of MODELS)
      embedders.push(
        instrumented(
          await createEmbedder({ model: modelLocation(model), device: 'cpu' }),
          reindexGate,
          counts,
        ),
      );
    // Given embedders, the API runs without a detector unless it is given one.
    detector = new ScriptedDetector(await loadDetector({ model: DETECTOR, device: 'cpu' }));
    const config: Partial<ApiConfig> = {
      NODE_ENV: 'test',
      dataDir: apiDataDir,
      DEMO_CATALOG: false,
      // The dashboard makes many calls per page, and polls while a re-index runs: no rate limit.
      RATE_LIMIT_PER_MINUTE: 0,
      MODELS,
      INFERENCE_DEVICE: 'cpu',
      ...extra,
    };
    api = await createServer({
      // Merged over the API's defaults. MODELS names the embedders passed, as it would in production.
      config,
      db,
      embedders,
      detector,
      logger: {
        info: () => undefined,
        error: (m, e) => {
          console.error(m, e);
        },
      },
    });
    const apiUrl = await api.listen(0, '127.0.0.1');
    const key = api.bootstrap.generatedKey;
    if (!key) throw new Error('the API generated no bootstrap key');
    const merchantId = api.bootstrap.merchantId;
    await seedDemoCatalog(api.core.catalog, merchantId, {
      count: products,
      extraPhotoShare: 0.3,
    });
    await built;

    const port = await freePort();
    const adminUrl = `http://127.0.0.1:${port}`;
    admin = spawn(
      process.execPath,
      [
        path.join(REPO_ROOT, 'node_modules', 'next', 'dist', 'bin', 'next'),
        'start',
        '-p',
        String(port),
        '-H',
        '127.0.0.1',
      ],
      {
        cwd: ADMIN_DIR,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          NODE_ENV: 'production',
          NEXT_TELEMETRY_DISABLED: '1',
          API_URL: apiUrl,
          DATA_DIR: adminDataDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    admin.stdout?.on('data', (d: Buffer) => adminLog.push(d.toString()));
    admin.stderr?.on('data', (d: Buffer) => adminLog.push(d.toString()));
    await waitForHttp(`${adminUrl}/signin`, admin, adminLog);
    return {
      api,
      apiUrl,
      client: new GraphQLClient(apiUrl, key),
      key,
      merchantId,
      adminUrl,
      adminDataDir,
      adminLog,
      reindexGate,
      detector,
      embedCalls: () => counts.embeds,
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
