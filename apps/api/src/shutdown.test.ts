import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testEngines } from '@lookalike/db';
import { GraphQLClient } from '@lookalike/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testImage } from './testing/image-server.js';
import { startTestServer, type TestServer } from './testing/server.js';

// The processes as they run in production: real children, real signals, the embedded database
// on a temporary DATA_DIR. A stop must drain, close the database and remove its lockfile.

const root = path.resolve(import.meta.dirname, '..', '..', '..');
const native = testEngines().find((e) => e.name === 'postgres');
const KEY = `lk_${'S'.repeat(12)}_${'d'.repeat(40)}`;
const LOCK = 'lookalike.lock';

interface Child {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in the output. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[], env: Record<string, string>, detached = false): Child {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached,
  });
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const w of waiters) w();
    });
  });
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${String(pattern)}; output:\n${out}`));
        }, timeoutMs);
        const check = () => {
          const m = pattern.exec(out);
          if (m || child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            waiters.delete(check);
            if (m) resolve(m);
            else reject(new Error(`exited before ${String(pattern)}; output:\n${out}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

const apiEnv = (dataDir: string, extra: Record<string, string> = {}) => ({
  DATA_DIR: dataDir,
  HOST: '127.0.0.1',
  PORT: '0',
  NODE_ENV: 'production',
  DEMO_CATALOG: 'false',
  BOOTSTRAP_API_KEY: KEY,
  MODELS: 'fashion-resnet',
  DETECTOR: 'none',
  INFERENCE_DEVICE: 'cpu',
  ...extra,
});

async function startApi(dataDir: string) {
  const api = run(
    ['--conditions=@lookalike/source', '--import', 'tsx', 'apps/api/src/main.ts'],
    apiEnv(dataDir),
  );
  const [, url] = await api.waitFor(/Lookalike API on (http:\/\/\S+)\/graphql/);
  return { ...api, url: url!, client: new GraphQLClient(url!, KEY) };
}

/**
 * An upload to addProductImage whose body is sent in two parts: everything but the end of the
 * file now, the rest on finish(). Between the two, the request is in flight.
 */
async function slowUpload(url: string, productId: string) {
  const boundary = 'shutdown-test-boundary';
  const operations = JSON.stringify({
    query: `mutation ($image: Upload!, $id: ID!) { addProductImage(image: $image, productId: $id) { id status } }`,
    variables: { image: null, id: productId },
  });
  const part = (headers: string, body: string | Buffer) =>
    Buffer.concat([
      Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`),
      Buffer.from(body),
      Buffer.from('\r\n'),
    ]);
  const body = Buffer.concat([
    part('Content-Disposition: form-data; name="operations"', operations),
    part('Content-Disposition: form-data; name="map"', JSON.stringify({ 0: ['variables.image'] })),
    part(
      'Content-Disposition: form-data; name="0"; filename="photo.png"\r\nContent-Type: image/png',
      await testImage(7),
    ),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  const req = http.request(`${url}/graphql`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${KEY}`,
      'apollo-require-preflight': 'true',
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(body.length),
    },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.once('end', () => {
        resolve({ status: res.statusCode ?? 0, body: text });
      });
      res.once('error', reject);
    });
    req.once('error', reject);
  });
  const cut = body.length - 200;
  await new Promise<void>((resolve) => {
    req.write(body.subarray(0, cut), () => {
      resolve();
    });
  });
  return {
    response,
    finish: () => req.end(body.subarray(cut)),
    abort: () => req.destroy(),
  };
}

/** Resolves once a new connection to `url` is refused (the server stopped listening). */
async function refused(url: string, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const ok = await fetch(`${url}/healthz`).then(
      () => false,
      () => true,
    );
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('the API process on the embedded engine, stopped by a signal', () => {
  let dataDir: string;
  let productId: string;
  const started: Child[] = [];
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-shutdown-'));
  });
  afterAll(async () => {
    for (const c of started) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('SIGTERM: refuses new connections, finishes the upload in flight, closes the database and its lock, exits 0', async () => {
    const api = await startApi(dataDir);
    started.push(api);
    expect(existsSync(path.join(dataDir, LOCK))).toBe(true);
    const created = await api.client.query<{ createProduct: { id: string } }>(
      `mutation { createProduct(input: { externalId: "KEEP-1", title: "Written before SIGTERM" }) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    productId = created.data!.createProduct.id;

    const upload = await slowUpload(api.url, productId);
    // The server has the request's headers and part of its body: it is in flight.
    await new Promise((r) => setTimeout(r, 300));
    api.child.kill('SIGTERM');
    await api.waitFor(/SIGTERM: shutting down/);
    expect(await refused(api.url)).toBe(true);
    upload.finish();
    const res = await upload.response;
    expect(res.status).toBe(200);
    const answer = JSON.parse(res.body) as {
      data?: { addProductImage: { id: string; status: string } };
      errors?: unknown;
    };
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.addProductImage.status).toBe('READY');

    expect(await api.exited).toEqual({ code: 0, signal: null });
    expect(api.output()).toMatch(/shut down/);
    expect(existsSync(path.join(dataDir, LOCK))).toBe(false);
  }, 240_000);

  it('a second start on the same DATA_DIR sees what the first wrote; a second signal ends a shutdown that waits for a request at once', async () => {
    const api = await startApi(dataDir);
    started.push(api);
    expect(api.output()).not.toMatch(/took over the lock/);
    const res = await api.client.query<{
      productByExternalId: { id: string; title: string; images: { status: string }[] } | null;
    }>(`{ productByExternalId(externalId: "KEEP-1") { id title images { status } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data!.productByExternalId).toEqual({
      id: productId,
      title: 'Written before SIGTERM',
      images: [{ status: 'READY' }],
    });

    // A request that never ends holds the drain; the second Ctrl-C does not wait for it.
    const upload = await slowUpload(api.url, productId);
    upload.response.catch(() => undefined); // cut by the forced exit
    await new Promise((r) => setTimeout(r, 300));
    api.child.kill('SIGINT');
    await api.waitFor(/SIGINT: shutting down/);
    const second = Date.now();
    api.child.kill('SIGINT');
    const exit = await api.exited;
    upload.abort();
    expect(Date.now() - second).toBeLessThan(5000);
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(1);
    expect(api.output()).toMatch(/second SIGINT/);
    // Even a forced exit leaves no lock behind.
    expect(existsSync(path.join(dataDir, LOCK))).toBe(false);
  }, 240_000);
});

describe('npm start (scripts/start.ts)', () => {
  let dataDir: string;
  let start: Child | undefined;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-start-'));
  });
  afterAll(async () => {
    if (start?.child.pid && start.child.exitCode === null) {
      try {
        process.kill(-start.child.pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it("Ctrl-C (SIGINT to the terminal's whole process group) while the demo catalog seeds stops the API cleanly, exit 0", async () => {
    // Its own process group, as a terminal gives it: the signal goes to every process in it.
    start = run(
      ['--import', 'tsx', 'scripts/start.ts', 'api'],
      apiEnv(dataDir, { DEMO_CATALOG: 'true' }),
      true,
    );
    await start.waitFor(/\[api\] Seeding the demo catalog/, 180_000);
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(-start.child.pid!, 'SIGINT');
    expect(await start.exited).toEqual({ code: 0, signal: null });
    expect(start.output()).toMatch(/\[api\] SIGINT: shutting down/);
    expect(start.output()).toMatch(/\[api\] .*shut down/);
    expect(start.output()).not.toMatch(/second SIG/);
    expect(existsSync(path.join(dataDir, LOCK))).toBe(false);
  }, 240_000);
});

// apps/worker has no embedded mode (on the embedded engine the API runs the worker in-process):
// a worker process runs on native Postgres only.
/** Queue an import of `count` rows whose images are at `imagesUrl`; answers the job's id. */
async function importRows(t: TestServer, prefix: string, count: number, imagesUrl: string) {
  const lines = ['externalId,title,imageUrls'];
  for (let i = 0; i < count; i++)
    lines.push(`${prefix}-${i},Product ${i},${imagesUrl}/img/${i}.png`);
  const res = await t.client.upload<{ importCatalog: { id: string } }>(
    `mutation ($file: Upload!) { importCatalog(file: $file, format: CSV) { id } }`,
    {},
    { file: { bytes: Buffer.from(lines.join('\n')), name: 'catalog.csv' } },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.importCatalog.id;
}

/** A worker process on the test server's database, once it says it started. */
async function startWorkerProcess(t: TestServer, env: Record<string, string> = {}) {
  const worker = run(
    ['--conditions=@lookalike/source', '--import', 'tsx', 'apps/worker/src/main.ts'],
    {
      DATABASE_URL: t.databaseUrl!,
      DATA_DIR: t.dataDir,
      MODELS: 'fashion-resnet',
      INFERENCE_DEVICE: 'cpu',
      IMAGE_FETCH_ALLOW: '127.0.0.1',
      ...env,
    },
  );
  await worker.waitFor(/Lookalike worker \d+ started/);
  return worker;
}

describe.skipIf(!native)('the worker process, stopped by SIGTERM (native Postgres)', () => {
  let t: TestServer;
  let images: http.Server;
  let imagesUrl = '';
  let requested = 0;
  let worker: Child | undefined;
  beforeAll(async () => {
    // Every image takes a while to arrive, so a batch is surely in hand when the signal comes.
    const png = await testImage(3);
    images = http.createServer((req, res) => {
      requested++;
      setTimeout(() => res.writeHead(200, { 'content-type': 'image/png' }).end(png), 1500);
    });
    await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
    imagesUrl = `http://127.0.0.1:${(images.address() as { port: number }).port}`;
    t = await startTestServer(native!, { IMAGE_FETCH_ALLOW: ['127.0.0.1'], WORKER: 'off' });
  }, 120_000);
  afterAll(async () => {
    if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
    await t.stop();
    await new Promise((r) => images.close(r));
  });

  it('finishes the rows in hand, releases nothing half-done, and exits 0', async () => {
    const N = 60;
    const id = await importRows(t, 'W', N, imagesUrl);
    worker = await startWorkerProcess(t);
    const end = Date.now() + 60_000;
    while (requested === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(requested).toBeGreaterThan(0);
    const inHand = requested;
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(worker.output()).toMatch(/SIGTERM: finishing/);
    expect(worker.output()).toMatch(/Lookalike worker \d+ stopped/);

    // Each row whose image was being fetched at the signal was finished, not cut.
    const job = await t.client.query<{ ingestJob: { done: number; failed: number } }>(
      `query ($id: ID!) { ingestJob(id: $id) { done failed } }`,
      { id },
    );
    expect(job.data!.ingestJob.failed).toBe(0);
    expect(job.data!.ingestJob.done).toBeGreaterThanOrEqual(inHand);
    expect(job.data!.ingestJob.done).toBeLessThan(N);
    const active = await t.db.sql.withSession((s) =>
      s.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.job WHERE state = 'active'`),
    );
    expect(active[0]?.n).toBe(0);
  }, 240_000);
});

describe.skipIf(!native)(
  'the worker process, stopped while a batch hangs (native Postgres)',
  () => {
    let t: TestServer;
    let images: http.Server;
    let imagesUrl = '';
    let requested = 0;
    let worker: Child | undefined;
    beforeAll(async () => {
      // An image server that takes every request and never answers: the batches in hand cannot
      // finish before the fetch's own 10 s timeout.
      images = http.createServer(() => {
        requested++;
      });
      await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
      imagesUrl = `http://127.0.0.1:${(images.address() as { port: number }).port}`;
      t = await startTestServer(native!, { IMAGE_FETCH_ALLOW: ['127.0.0.1'], WORKER: 'off' });
    }, 120_000);
    afterAll(async () => {
      if (worker && worker.child.exitCode === null) worker.child.kill('SIGKILL');
      await t.stop();
      images.closeAllConnections();
      await new Promise((r) => images.close(r));
    });

    it('fails the rows in hand back to the queue within SHUTDOWN_TIMEOUT_MS and exits 0', async () => {
      const id = await importRows(t, 'H', 20, imagesUrl);
      // The batches get 2 s of it; waiting for them to end would take the fetch's 10 s.
      worker = await startWorkerProcess(t, { SHUTDOWN_TIMEOUT_MS: '4000' });
      const end = Date.now() + 60_000;
      while (requested === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(requested).toBeGreaterThan(0);
      worker.child.kill('SIGTERM');
      // Exit 1 with "Not stopped after" is the process giving up on a stop that waited too long.
      expect(await worker.exited).toEqual({ code: 0, signal: null });
      expect(worker.output()).not.toMatch(/Not stopped after/);
      expect(worker.output()).toMatch(/Lookalike worker \d+ stopped/);

      // The rows in hand are neither lost nor failed: their jobs wait to be retried, none is left
      // active for the expiry (WORKER_EXPIRE_SECONDS) to find.
      const states = await t.db.sql.withSession((s) =>
        s.query<{ state: string; n: number }>(
          `SELECT state, count(*)::int AS n FROM pgboss.job WHERE name = 'ingest-row' GROUP BY state`,
        ),
      );
      const count = (state: string) => states.find((r) => r.state === state)?.n ?? 0;
      expect(count('active')).toBe(0);
      expect(count('retry')).toBeGreaterThan(0);
      const job = await t.client.query<{ ingestJob: { done: number; failed: number } }>(
        `query ($id: ID!) { ingestJob(id: $id) { done failed } }`,
        { id },
      );
      expect(job.data!.ingestJob).toEqual({ done: 0, failed: 0 });
    }, 240_000);
  },
);
