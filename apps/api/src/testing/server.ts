import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Db, TestEngine } from '@lookalike/db';
import { createEmbedder, type Embedder } from '@lookalike/inference';
import { testConfig, type ApiConfig } from '../env.js';
import { createServer, type ApiServer, type Logger } from '../server.js';
import { GraphQLClient } from './client.js';

export interface TestServer {
  server: ApiServer;
  db: Db;
  url: string;
  /** Client with the bootstrap key (all scopes). */
  client: GraphQLClient;
  key: string;
  dataDir: string;
  logs: string[];
  stop(): Promise<void>;
}

let shared: Promise<Embedder> | undefined;

/** One embedder for all servers of a test file: starting ONNX sessions is the slow part. */
export function sharedEmbedder(): Promise<Embedder> {
  shared ??= createEmbedder({ model: 'fashion-resnet', device: 'cpu' });
  return shared;
}

/** A real API server on port 0 over a fresh database of `engine`, with a temporary DATA_DIR. */
export async function startTestServer(
  engine: TestEngine,
  overrides: Partial<ApiConfig> = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-api-'));
  const database = await engine.create();
  const logs: string[] = [];
  const logger: Logger = {
    info: (m) => logs.push(m),
    error: (m, e) => logs.push(`${m} ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
  };
  const server = await createServer({
    config: testConfig({ dataDir, ...overrides }),
    db: database.db,
    embedder: await sharedEmbedder(),
    logger,
  });
  const url = await server.listen(0, '127.0.0.1');
  const key = server.bootstrap.generatedKey ?? overrides.BOOTSTRAP_API_KEY;
  if (!key) throw new Error('test server has no bootstrap key');
  return {
    server,
    db: database.db,
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
