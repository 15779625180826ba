import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { testEngines } from '@lookalike/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImageServer, startReceiver, type ImageServer } from './testing/image-server.js';
import { startTestServer, type TestServer } from './testing/server.js';

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const native = testEngines().find((e) => e.name === 'postgres');

function startWorker(t: TestServer, logs: string[]): ChildProcess {
  const child = spawn(
    path.join(root, 'node_modules', '.bin', 'tsx'),
    ['--conditions=@lookalike/source', path.join(root, 'apps/worker/src/main.ts')],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: t.databaseUrl,
        DATA_DIR: t.dataDir,
        MODELS: 'fashion-resnet',
        INFERENCE_DEVICE: 'cpu',
        IMAGE_FETCH_ALLOW: '127.0.0.1',
        WORKER_EXPIRE_SECONDS: '15',
        QUEUE_MAINTENANCE_SECONDS: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.on('data', (d: Buffer) => logs.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => logs.push(d.toString()));
  return child;
}

async function job(t: TestServer, id: string) {
  const res = await t.client.query<{
    ingestJob: { status: string; total: number; done: number; failed: number };
  }>(`query ($id: ID!) { ingestJob(id: $id) { status total done failed } }`, { id });
  if (!res.data) throw new Error(JSON.stringify(res.errors));
  return res.data.ingestJob;
}

async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// A second process cannot open the embedded engine's database (one process owns PGlite), so
// worker processes run on native Postgres only; the embedded engine's in-process worker and its
// resume after a restart are tested in apps/api (import-resume.test.ts).
describe.skipIf(!native)('worker processes on native Postgres (TEST_DATABASE_URL)', () => {
  let t: TestServer;
  let img: ImageServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const workers: ChildProcess[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    img = await startImageServer();
    receiver = await startReceiver();
    t = await startTestServer(
      native!,
      { IMAGE_FETCH_ALLOW: ['127.0.0.1'], WORKER: 'off' },
      { queue: { maintenanceIntervalSeconds: 1, expireInSeconds: 15 } },
    );
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await t.stop();
    await img.close();
    await receiver.close();
  });

  it('a worker killed with SIGKILL mid-import and a new one started end with exactly the expected products and images, and one import.completed', async () => {
    const hook = await t.client.query(
      `mutation ($url: String!) { createWebhookEndpoint(url: $url, events: ["import.completed"]) { secret } }`,
      { url: receiver.url },
    );
    expect(hook.errors).toBeUndefined();
    const N = 240;
    const lines = ['externalId,title,imageUrls'];
    for (let i = 0; i < N; i++) lines.push(`K-${i},Product ${i},${img.url}/img/${i}.png`);
    const res = await t.client.upload<{ importCatalog: { id: string } }>(
      `mutation ($file: Upload!) { importCatalog(file: $file, format: CSV) { id } }`,
      {},
      { file: { bytes: Buffer.from(lines.join('\n')), name: 'catalog.csv' } },
    );
    expect(res.errors).toBeUndefined();
    const id = res.data!.importCatalog.id;

    const first = startWorker(t, logs);
    workers.push(first);
    const atKill = await until(
      'the first worker to import some rows',
      async () => {
        const j = await job(t, id);
        return j.done >= 24 ? j : null;
      },
      180_000,
    );
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    expect(atKill.done).toBeLessThan(N);

    workers.push(startWorker(t, logs));
    const done = await until(
      'the import to complete',
      async () => {
        const j = await job(t, id);
        return j.status === 'COMPLETED' ? j : null;
      },
      240_000,
    );
    expect(done).toMatchObject({ total: N, done: N, failed: 0 });
    const merchantId = t.server.bootstrap.merchantId;
    expect(await t.db.images.count(merchantId)).toBe(N);
    const products = await t.client.query<{ products: { totalCount: number } }>(
      `{ products(first: 1) { totalCount } }`,
    );
    expect(products.data!.products.totalCount).toBe(N);
    // One vector per image and model: nothing embedded twice into the index.
    const vectors = await t.db.sql.withSession((s) =>
      s.query<{ n: number }>(`SELECT count(*)::int AS n FROM image_embeddings`),
    );
    expect(vectors[0]?.n).toBe(N);

    // The completion event was written once, and delivered once.
    await until(
      'the import.completed delivery',
      () => Promise.resolve(receiver.received.length > 0 ? true : null),
      30_000,
    );
    await new Promise((r) => setTimeout(r, 3000));
    const completions = receiver.received.filter((r) => r.body.includes('"import.completed"'));
    expect(completions).toHaveLength(1);
  }, 600_000);
});
