import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDb, testEngines } from '@lookalike/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImageServer, type ImageServer } from './testing/image-server.js';
import { startTestServer, type TestServer } from './testing/server.js';

const pglite = testEngines().find((e) => e.name === 'pglite')!;

async function job(t: TestServer, id: string) {
  const res = await t.client.query<{ ingestJob: { status: string; done: number; total: number } }>(
    `query ($id: ID!) { ingestJob(id: $id) { status done total } }`,
    { id },
  );
  return res.data!.ingestJob;
}

describe('the embedded engine: the in-process worker resumes an import after a restart', () => {
  let img: ImageServer;
  let dir: string;

  beforeAll(async () => {
    img = await startImageServer();
    dir = await mkdtemp(path.join(tmpdir(), 'lookalike-resume-'));
  });

  afterAll(async () => {
    await img.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stops mid-import, starts again on the same data, and ends with exactly every row', async () => {
    const N = 120;
    const open = async () => {
      const db = await createDb({ dataDir: dir, migrate: true });
      return startTestServer(
        pglite,
        {
          IMAGE_FETCH_ALLOW: ['127.0.0.1'],
          BOOTSTRAP_API_KEY: `lk_${'a'.repeat(12)}_${'b'.repeat(40)}`,
        },
        { worker: { pollingIntervalSeconds: 0.5, batchSize: 4, concurrency: 1 } },
        { db, drop: () => db.close() },
      );
    };
    const first = await open();
    const lines = ['externalId,title,imageUrls'];
    for (let i = 0; i < N; i++) lines.push(`R-${i},Product ${i},${img.url}/img/${i}.png`);
    const res = await first.client.upload<{ importCatalog: { id: string } }>(
      `mutation ($file: Upload!) { importCatalog(file: $file, format: CSV) { id } }`,
      {},
      { file: { bytes: Buffer.from(lines.join('\n')), name: 'catalog.csv' } },
    );
    const id = res.data!.importCatalog.id;
    for (;;) {
      const j = await job(first, id);
      if (j.done >= 8) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await first.stop();
    const second = await open();
    try {
      const atRestart = await job(second, id);
      expect(atRestart.done).toBeLessThan(N);
      const end = Date.now() + 240_000;
      let j = atRestart;
      while (j.status !== 'COMPLETED' && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 250));
        j = await job(second, id);
      }
      expect(j).toMatchObject({ status: 'COMPLETED', done: N, total: N });
      expect(await second.db.images.count(second.server.bootstrap.merchantId)).toBe(N);
    } finally {
      await second.stop();
    }
  }, 400_000);
});
