// The API as the benchmarks run it: in this process, on a fresh database of the bench's engine
// (BENCH_DATABASE_URL: native Postgres; unset: embedded PGlite), in a temporary DATA_DIR, with no
// rate limit, on a free loopback port.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type ApiConfig, type ApiServer } from '@lookalike/api';
import { testEngines, type EngineName } from '@lookalike/db';

export interface BenchApi {
  server: ApiServer;
  url: string;
  /** The bootstrap key, every scope. */
  key: string;
  merchantId: string;
  engine: EngineName;
  dataDir: string;
  close(): Promise<void>;
}

export async function startBenchApi(config: Partial<ApiConfig> = {}): Promise<BenchApi> {
  const baseUrl = process.env.BENCH_DATABASE_URL;
  const engine = testEngines(baseUrl).at(baseUrl ? 1 : 0);
  if (!engine) throw new Error('no database engine');
  const database = await engine.create();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-bench-'));
  const close = async () => {
    await server?.close();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  };
  let server: ApiServer | undefined;
  try {
    server = await createServer({
      config: {
        NODE_ENV: 'production',
        dataDir,
        RATE_LIMIT_PER_MINUTE: 0,
        INFERENCE_DEVICE: 'cpu',
        ...config,
      },
      db: database.db,
      logger: {
        info: () => undefined,
        error: (m, e) => {
          console.error(m, e);
        },
      },
    });
    const url = await server.listen(0, '127.0.0.1');
    const key = server.bootstrap.generatedKey;
    if (!key) throw new Error('the API generated no bootstrap key');
    return {
      server,
      url,
      key,
      merchantId: server.bootstrap.merchantId,
      engine: engine.name,
      dataDir,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
