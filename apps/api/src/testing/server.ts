import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Detector } from '@lookalike/core';
import type { Db, TestDatabase, TestEngine } from '@lookalike/db';
import { createEmbedder, type Embedder } from '@lookalike/inference';
import { GraphQLClient } from '@lookalike/sdk';
import { loadConfig, type ApiConfig } from '../env.js';
import type { Logger } from '../logger.js';
import { createServer, type ApiServer, type CreateServerOptions } from '../server.js';

export interface TestServer {
  server: ApiServer;
  db: Db;
  /** The database's connection string (native engine only). */
  databaseUrl: string | undefined;
  url: string;
  /** Client with the bootstrap key (all scopes). */
  client: GraphQLClient;
  key: string;
  dataDir: string;
  logs: string[];
  stop(): Promise<void>;
}

const shared = new Map<string, Promise<Embedder>>();

/** One embedder per model for all servers of a test file: starting ONNX sessions is the slow part. */
export function sharedEmbedder(model = 'fashion-resnet'): Promise<Embedder> {
  let embedder = shared.get(model);
  if (!embedder) {
    embedder = createEmbedder({ model, device: 'cpu' });
    shared.set(model, embedder);
  }
  return embedder;
}

/** Test defaults: the environment is not read, no demo catalog. */
export function testConfig(overrides: Partial<ApiConfig> = {}): ApiConfig {
  return { ...loadConfig({ NODE_ENV: 'test', DEMO_CATALOG: 'false' }), ...overrides };
}

/**
 * A real API server on port 0 over a fresh database of `engine`, with a temporary DATA_DIR, the
 * shared embedders of `models` (default: the bundled model alone) and `detector` (default none:
 * whole photos are searched, as suites that do not test detection expect).
 */
export async function startTestServer(
  engine: TestEngine,
  overrides: Partial<ApiConfig> = {},
  {
    models = ['fashion-resnet'],
    detector = null,
    ...rest
  }: {
    models?: string[];
    detector?: Detector | string | null;
  } & Pick<CreateServerOptions, 'imageFetch' | 'worker' | 'queue'> = {},
  database?: TestDatabase,
): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-api-'));
  database ??= await engine.create();
  const logs: string[] = [];
  const logger: Logger = {
    info: (m) => logs.push(m),
    error: (m, e) => logs.push(`${m} ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
  };
  const server = await createServer({
    config: testConfig({ dataDir, ...overrides }),
    db: database.db,
    embedders: await Promise.all(models.map((m) => sharedEmbedder(m))),
    detector,
    logger,
    ...rest,
  });
  const url = await server.listen(0, '127.0.0.1');
  const key = server.bootstrap.generatedKey ?? overrides.BOOTSTRAP_API_KEY;
  if (!key) throw new Error('test server has no bootstrap key');
  return {
    server,
    db: database.db,
    databaseUrl: database.url,
    url,
    key,
    client: new GraphQLClient(url, key),
    dataDir,
    logs,
    async stop() {
      await server.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
