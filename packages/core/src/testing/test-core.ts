import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Db, TestEngine } from '@lookalike/db';
import { createEmbedder, type Embedder } from '@lookalike/inference';
import { createCore, type Core, type CoreOptions } from '../core.js';
import { ModelRegistry } from '../models/model-registry.js';

const shared = new Map<string, Promise<Embedder>>();

/** One embedder per model for a whole test file: starting ONNX sessions is the slow part. */
export function sharedEmbedder(model: string): Promise<Embedder> {
  let embedder = shared.get(model);
  if (!embedder) {
    embedder = createEmbedder({ model, device: 'cpu' });
    shared.set(model, embedder);
  }
  return embedder;
}

/** A core over a fresh database and data folder, before its first start's bootstrap. */
export interface OpenTestCore {
  core: Core;
  db: Db;
  dataDir: string;
  /**
   * Another core over the same database and files, as a restarted process would open (with
   * the same models unless given others).
   */
  reopen(options?: Partial<Omit<CoreOptions, 'db' | 'dataDir'>>): Promise<Core>;
  stop(): Promise<void>;
}

export interface TestCore extends OpenTestCore {
  merchantId: string;
}

type TestCoreOptions = { models?: string[] } & Partial<
  Omit<CoreOptions, 'db' | 'models' | 'dataDir'>
>;

/** A core over a fresh database of `engine`, with the shared embedders of `models`; not bootstrapped. */
export async function openTestCore(
  engine: TestEngine,
  { models = ['fashion-resnet'], ...options }: TestCoreOptions = {},
): Promise<OpenTestCore> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-core-'));
  const database = await engine.create();
  const registry = new ModelRegistry(await Promise.all(models.map((m) => sharedEmbedder(m))));
  const open = (extra: Partial<CoreOptions> = {}) =>
    createCore({ db: database.db, models: registry, dataDir, ...options, ...extra });
  const core = await open();
  const cores = [core];
  return {
    core,
    db: database.db,
    dataDir,
    async reopen(extra = {}) {
      const again = await open(extra);
      cores.push(again);
      return again;
    },
    async stop() {
      for (const c of cores) await c.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** openTestCore, then the first start's bootstrap: the default merchant with its key. */
export async function startTestCore(
  engine: TestEngine,
  options: TestCoreOptions = {},
): Promise<TestCore> {
  const opened = await openTestCore(engine, options);
  const { merchantId } = await opened.core.bootstrap({ dataDir: opened.dataDir });
  return { ...opened, merchantId };
}
