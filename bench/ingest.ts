/**
 * Bulk import throughput on native Postgres: `npm run bench:ingest` (writes
 * docs/benchmarks.md#ingest).
 *
 * A CSV of BENCH_ROWS rows (default 10,000), one image URL each, served by a local image server
 * on 127.0.0.1 (BENCH_IMAGES distinct 96 px PNGs, default 500, `testImage(i)` of the API's
 * import tests, cycled; all rendered and fetched once before anything is timed), is imported
 * through the real API over HTTP (`importCatalog`, multipart) with the API's in-process worker
 * off. The rows are worked by apps/worker processes spawned as children (the same `main.ts`
 * production runs), for each count in BENCH_WORKERS (default "1,2"), each count on a fresh
 * scratch database so every run does the same work. Timed from sending the mutation to the job
 * COMPLETED (the job's `finishedAt`); also the mutation's answer time (upload, parse, record
 * every row, queue them), the wait for the first row to start, the rows/s over each quarter
 * of the job, and the CPU each process used.
 *
 * Beside it, the embedder's end-to-end throughput as `bench:embed` measures it
 * (`embedder.embed(bytes)` from concurrent callers, the same images, the model the workers
 * load), so the ratio ingest / embedder is printed against the goal (>= 0.8x with one worker).
 *
 *   npm run bench:ingest                                   # 10,000 rows, 1 then 2 workers
 *   BENCH_ROWS=500 BENCH_WORKERS=1 npm run bench:ingest    # quick
 *   BENCH_BATCH=16 npm run bench:ingest                    # WORKER_BATCH_SIZE of the workers
 *   BENCH_DATABASE_URL=postgresql://... npm run bench:ingest  # another server (default
 *                                                          # TEST_DATABASE_URL, then local)
 *   BENCH_WORKER_PROFILE=.data/prof npm run bench:ingest   # V8 CPU profiles of the workers
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer, type ApiServer } from '@lookalike/api';
import { modelLocation } from '@lookalike/core';
import { createDb, createScratchDatabase, type Db } from '@lookalike/db';
import { createEmbedder, type Embedder } from '@lookalike/inference';
import { GraphQLClient } from '@lookalike/sdk';
import { startImageServer } from '../apps/api/src/testing/image-server.js';
import { machineLine, markdownTable, writeSection } from './lib/report.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORKER_MAIN = path.join(ROOT, 'apps', 'worker', 'src', 'main.ts');
const ROWS = Number(process.env.BENCH_ROWS ?? 10_000);
const DISTINCT = Number(process.env.BENCH_IMAGES ?? 500);
const WORKER_COUNTS = (process.env.BENCH_WORKERS ?? '1,2')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => n > 0);
const BATCH = process.env.BENCH_BATCH ? Number(process.env.BENCH_BATCH) : undefined;
const BASE_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  'postgresql://postgres@127.0.0.1:5432/lookalike_test';
/** A folder: the workers write V8 CPU profiles there (`--cpu-prof`) when they stop. */
const PROFILE_DIR = process.env.BENCH_WORKER_PROFILE
  ? path.resolve(process.env.BENCH_WORKER_PROFILE)
  : undefined;
const MODEL = 'fashion-resnet';
/** The embedder's reference: closed-loop callers, as bench:embed's end-to-end rows. */
const EMBED_CONCURRENCY = [16, 32];
const EMBED_IMAGES = Math.max(200, Math.min(2000, ROWS));
/** No progress for this long: the run is stuck (a worker died, a bug); stop and say so. */
const STALL_MS = 180_000;
const GOAL = 0.8;
if (!Number.isInteger(ROWS) || ROWS < 1) throw new Error('BENCH_ROWS must be a positive integer');
if (WORKER_COUNTS.length === 0) throw new Error('BENCH_WORKERS names no worker count');
if (BATCH !== undefined && !(Number.isInteger(BATCH) && BATCH >= 1 && BATCH <= 100)) {
  throw new Error('BENCH_BATCH must be an integer in [1, 100]');
}

const IMPORT = `mutation ($file: Upload!, $format: ImportFormat!) {
  importCatalog(file: $file, format: $format) { id status total done failed }
}`;
const JOB = `query ($id: ID!) {
  ingestJob(id: $id) {
    id status total done failed images createdAt startedAt finishedAt
    errors(first: 5) { nodes { row code reason } }
  }
}`;

interface Job {
  id: string;
  status: string;
  total: number;
  done: number;
  failed: number;
  images: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  errors: { nodes: { row: number; code: string; reason: string }[] };
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

// ------------------------------------------------------------------------------ CPU accounting

// Linux only (the benchmark machine); elsewhere the CPU columns read '-'.
const CLK_TCK = 100;

/** utime + stime of a process (all its threads), in seconds; NaN when it cannot be read. */
function processCpu(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/** CPU seconds of every `postgres` process (all databases: other sessions' work included). */
async function postgresCpu(): Promise<number> {
  let sum = 0;
  try {
    for (const name of await readdir('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = await readFile(`/proc/${name}/stat`, 'utf8');
        if (!stat.includes('(postgres)')) continue;
        sum += processCpu(Number(name));
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    return NaN;
  }
  return sum;
}

// ------------------------------------------------------------------------------------ workers

interface WorkerChild {
  index: number;
  child: ChildProcess;
  /** The last lines it printed (stdout and stderr), for a failure's message. */
  tail: string[];
  exited: Promise<number | null>;
  models: string;
}

const children = new Set<ChildProcess>();
// Whatever happens, no worker outlives the benchmark.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping`);
    for (const c of children) c.kill('SIGKILL');
    process.exit(130);
  });
}

/** One apps/worker process on the run's database and DATA_DIR; resolves once it is polling. */
async function startWorker(index: number, databaseUrl: string, dataDir: string) {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@lookalike/source',
      '--import',
      'tsx',
      ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : []),
      WORKER_MAIN,
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        DATA_DIR: dataDir,
        MODELS: MODEL,
        INFERENCE_DEVICE: 'cpu',
        IMAGE_FETCH_ALLOW: '127.0.0.1',
        ...(BATCH !== undefined ? { WORKER_BATCH_SIZE: String(BATCH) } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  const tail: string[] = [];
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  const worker: WorkerChild = { index, child, tail, exited, models: '' };
  await new Promise<void>((resolve, reject) => {
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      const m = /^Lookalike worker \d+ started; models (.*)$/.exec(line);
      if (m) {
        worker.models = m[1] ?? '';
        resolve();
      }
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        lines.forEach(onLine);
      });
    }
    void exited.then((code) => {
      reject(new Error(`worker ${index} exited with ${code} before starting:\n${tail.join('\n')}`));
    });
    setTimeout(() => {
      reject(new Error(`worker ${index} did not start in 120 s:\n${tail.join('\n')}`));
    }, 120_000).unref();
  });
  return worker;
}

/** SIGTERM (the worker finishes its batches and closes), SIGKILL after 10 s. */
async function stopWorker(w: WorkerChild): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    console.error(`worker ${w.index} still running 10 s after SIGTERM: SIGKILL`);
    w.child.kill('SIGKILL');
  }, 10_000);
  await w.exited;
  clearTimeout(timer);
}

// ----------------------------------------------------------------------------------- the runs

/** Row i's image is `/img/<indices[i % indices.length]>.png`. */
function catalogCsv(imageBase: string, indices: number[]): Buffer {
  const lines = ['externalId,title,category,price,currency,imageUrls'];
  for (let i = 1; i <= ROWS; i++) {
    const n = indices[i % indices.length] as number;
    lines.push(`B-${i},Bench product ${i},cat-${i % 7},19.99,EUR,${imageBase}/img/${n}.png`);
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

interface IngestResult {
  workers: number;
  models: string;
  answerMs: number;
  /** Server clock: the job row written (after the parse) minus when the request was sent. */
  parseMs: number;
  /** From the answer to the first row started by a worker (polling interval included). */
  pickupMs: number;
  /** From the first row started to the job finished. */
  workMs: number;
  /** From sending the mutation to the job finished. */
  totalMs: number;
  rowsPerSecond: number;
  imagesPerSecond: number;
  /** Rows/s over each quarter of the rows (from the poll samples). */
  quarters: number[];
  cpu: { api: number; workers: number[]; postgres: number; busy: number; wall: number };
  job: Job;
}

async function ingestRun(
  workers: number,
  csv: Buffer,
  embedder: Embedder,
  log: string[],
): Promise<IngestResult> {
  const scratch = await createScratchDatabase(BASE_URL);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-bench-ingest-'));
  let db: Db | undefined;
  let server: ApiServer | undefined;
  const running: WorkerChild[] = [];
  try {
    db = await createDb({ url: scratch.url });
    server = await createServer({
      config: {
        NODE_ENV: 'production',
        DATABASE_URL: scratch.url,
        dataDir,
        WORKER: 'off',
        IMAGE_FETCH_ALLOW: ['127.0.0.1'],
        MODELS: [MODEL],
        INFERENCE_DEVICE: 'cpu',
        MODEL_UPGRADE: 'off',
        DEMO_CATALOG: false,
        RATE_LIMIT_PER_MINUTE: 0,
        IMPORT_ROWS_PER_MINUTE: 0,
      },
      db,
      embedders: [embedder],
      detector: null,
      logger: {
        info: (m) => {
          log.push(m);
        },
        error: (m, e) => {
          console.error(m, e);
        },
      },
    });
    const url = await server.listen(0, '127.0.0.1');
    const client = new GraphQLClient(url, server.bootstrap.generatedKey as string);
    for (const w of await Promise.all(
      Array.from({ length: workers }, (_, i) => startWorker(i + 1, scratch.url, dataDir)),
    )) {
      running.push(w);
    }
    const models = running[0]?.models ?? '';
    console.log(`  ${workers} worker process(es) polling (${models})`);

    const cpu0 = {
      api: process.cpuUsage(),
      workers: running.map((w) => processCpu(w.child.pid as number)),
      postgres: await postgresCpu(),
      machine: machineCpu(),
    };
    const sent = Date.now();
    const t0 = performance.now();
    const res = await client.upload<{ importCatalog: { id: string; total: number } }>(
      IMPORT,
      { format: 'CSV' },
      { file: { bytes: csv, name: 'catalog.csv', type: 'text/csv' } },
    );
    const answerMs = performance.now() - t0;
    if (res.errors || !res.data) throw new Error(`importCatalog: ${JSON.stringify(res.errors)}`);
    const { id, total } = res.data.importCatalog;
    if (total !== ROWS) throw new Error(`importCatalog answered total ${total}, not ${ROWS}`);
    console.log(`  importCatalog answered in ${fmt(answerMs, 0)} ms (job ${id})`);

    // Poll until the job ends; samples of (time, rows worked) give the rate per quarter.
    const samples: { t: number; n: number }[] = [{ t: t0, n: 0 }];
    let job: Job;
    let lastProgress = performance.now();
    let lastPrint = 0;
    for (;;) {
      const r = await client.query<{ ingestJob: Job }>(JOB, { id });
      if (!r.data?.ingestJob) throw new Error(`ingestJob: ${JSON.stringify(r.errors)}`);
      job = r.data.ingestJob;
      const now = performance.now();
      const n = job.done + job.failed;
      if (n > (samples.at(-1)?.n ?? 0)) lastProgress = now;
      samples.push({ t: now, n });
      if (!['QUEUED', 'RUNNING'].includes(job.status)) break;
      if (now - lastPrint > 10_000) {
        lastPrint = now;
        process.stdout.write(
          `\r  ${n}/${ROWS} rows, ${fmt(n / ((now - t0) / 1000))} rows/s so far   `,
        );
      }
      for (const w of running) {
        if (w.child.exitCode !== null || w.child.signalCode !== null) {
          throw new Error(`worker ${w.index} exited during the import:\n${w.tail.join('\n')}`);
        }
      }
      if (now - lastProgress > STALL_MS) {
        throw new Error(
          `no progress for ${STALL_MS / 1000} s at ${n}/${ROWS} (${job.status}); worker 1's last lines:\n${running[0]?.tail.join('\n')}`,
        );
      }
      await sleep(200);
    }
    process.stdout.write('\r');
    const cpu = {
      api: (() => {
        const u = process.cpuUsage(cpu0.api);
        return (u.user + u.system) / 1e6;
      })(),
      workers: running.map((w, i) => processCpu(w.child.pid as number) - (cpu0.workers[i] ?? 0)),
      postgres: (await postgresCpu()) - cpu0.postgres,
      busy: machineCpu().busy - cpu0.machine.busy,
      wall: (Date.now() - sent) / 1000,
    };
    if (job.status !== 'COMPLETED' || job.done !== ROWS || job.failed !== 0) {
      throw new Error(
        `the import ended ${job.status}: ${job.done} done, ${job.failed} failed of ${job.total}, ${job.images} images; first errors: ${JSON.stringify(job.errors.nodes)}`,
      );
    }
    const stored = await db.images.count(server.bootstrap.merchantId);
    if (stored !== ROWS || job.images !== ROWS) {
      throw new Error(`${stored} images stored (the job says ${job.images}), expected ${ROWS}`);
    }
    const created = Date.parse(job.createdAt);
    const started = Date.parse(job.startedAt as string);
    const finished = Date.parse(job.finishedAt as string);
    const totalMs = finished - sent;
    // The time the samples first reached each quarter of the rows (the end: finishedAt).
    const at = (k: number) => samples.find((s) => s.n >= k)?.t ?? samples.at(-1)?.t ?? NaN;
    const marks = [0, 0.25, 0.5, 0.75].map((q) => Math.ceil(q * ROWS));
    const quarters = marks.map((from, i) => {
      const to = i < 3 ? (marks[i + 1] as number) : ROWS;
      const begin = i === 0 ? t0 + (started - sent) : at(from);
      const end = i === 3 ? t0 + totalMs : at(to);
      return (to - from) / ((end - begin) / 1000);
    });
    return {
      workers,
      models,
      answerMs,
      parseMs: created - sent,
      pickupMs: started - (sent + answerMs),
      workMs: finished - started,
      totalMs,
      rowsPerSecond: ROWS / (totalMs / 1000),
      imagesPerSecond: job.images / (totalMs / 1000),
      quarters,
      cpu,
      job,
    };
  } finally {
    // Each step on its own: one failing does not leave the others' resources behind.
    await cleanup('stop the workers', () => Promise.all(running.map(stopWorker)));
    await cleanup('close the server', () => server?.close());
    await cleanup('close the database', () => db?.close());
    await cleanup('drop the scratch database', () => scratch.drop());
    await cleanup('remove DATA_DIR', () => rm(dataDir, { recursive: true, force: true }));
  }
}

async function cleanup(what: string, step: () => Promise<unknown> | undefined): Promise<void> {
  try {
    await step();
  } catch (error) {
    console.error(`cleanup: could not ${what}:`, error);
  }
}

/** c closed-loop callers of embedder.embed over the images, `n` calls in all: images/s. */
async function embedRate(embedder: Embedder, images: Buffer[], c: number, n: number) {
  let issued = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (issued < n) {
        const i = issued++;
        await embedder.embed(images[i % images.length] as Buffer);
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

async function embedderRound(embedder: Embedder, images: Buffer[], label: string) {
  const rates: Record<number, number> = {};
  for (const c of EMBED_CONCURRENCY) {
    rates[c] = await embedRate(embedder, images, c, EMBED_IMAGES);
  }
  console.log(
    `embedder ${label}: ${EMBED_CONCURRENCY.map((c) => `c=${c} ${fmt(rates[c] as number)}/s`).join(', ')}`,
  );
  return rates;
}

// ------------------------------------------------------------------------------------- main

const load0 = loadavg()[0] as number;
const img = await startImageServer();
const embedder = await createEmbedder({ model: modelLocation(MODEL), device: 'cpu' });
const serverLog: string[] = [];
try {
  // Every distinct image rendered (the server caches it) and fetched once, before any timing;
  // the bytes are the embedder's reference input too.
  // testImage(i) repeats itself now and then (472 distinct files among i < 500): the first
  // DISTINCT indices whose files differ are used.
  const images: Buffer[] = [];
  const indices: number[] = [];
  const seen = new Set<string>();
  for (let i = 0; images.length < DISTINCT; i++) {
    if (i > 100 * DISTINCT) throw new Error(`fewer than ${DISTINCT} distinct test images`);
    const res = await fetch(`${img.url}/img/${i}.png`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const key = bytes.toString('base64');
    if (seen.has(key)) continue;
    seen.add(key);
    images.push(bytes);
    indices.push(i);
  }
  const kib = images.reduce((a, b) => a + b.length, 0) / images.length / 1024;
  const csv = catalogCsv(img.url, indices);
  console.log(
    `${ROWS} rows, ${DISTINCT} distinct images (~${fmt(kib)} KiB each, indices 0..${indices.at(-1)}), CSV ${fmt(csv.length / 1024 / 1024, 2)} MiB; model ${embedder.info.key}`,
  );

  // The reference: the embedder alone, two rounds before the imports and one after.
  await embedRate(embedder, images, 16, 100); // warm-up
  const embedRounds = [
    await embedderRound(embedder, images, 'round 1'),
    await embedderRound(embedder, images, 'round 2'),
  ];

  const results: IngestResult[] = [];
  for (const workers of WORKER_COUNTS) {
    console.log(`import of ${ROWS} rows with ${workers} worker process(es):`);
    const r = await ingestRun(workers, csv, embedder, serverLog);
    results.push(r);
    console.log(
      `  ${workers} worker(s): ${fmt(r.rowsPerSecond)} rows/s, ${fmt(r.imagesPerSecond)} images/s (${fmt(r.totalMs / 1000)} s); answer ${fmt(r.answerMs, 0)} ms, first row after ${fmt(r.pickupMs, 0)} ms more, work ${fmt(r.workMs / 1000)} s; quarters ${r.quarters.map((q) => fmt(q)).join(' / ')} rows/s`,
    );
  }
  embedRounds.push(await embedderRound(embedder, images, 'round 3 (after the imports)'));

  const embedBest = Object.fromEntries(
    EMBED_CONCURRENCY.map((c) => [c, median(embedRounds.map((r) => r[c] as number))]),
  ) as Record<number, number>;
  const reference = Math.max(...Object.values(embedBest));
  const referenceC = EMBED_CONCURRENCY.find((c) => embedBest[c] === reference);
  const one = results.find((r) => r.workers === 1);
  const ratio = one ? one.imagesPerSecond / reference : NaN;
  const met = ratio >= GOAL;
  const load1 = loadavg()[0] as number;

  const cpuCell = (r: IngestResult) => {
    const workers = r.cpu.workers.reduce((a, b) => a + b, 0);
    const other = r.cpu.busy - r.cpu.api - workers - r.cpu.postgres;
    return [
      `${fmt(r.cpu.api)} s`,
      `${fmt(workers)} s${r.cpu.workers.length > 1 ? ` (${r.cpu.workers.map((w) => fmt(w)).join(' + ')})` : ''}`,
      `${fmt(r.cpu.postgres)} s`,
      `${fmt(other)} s`,
      `${fmt((100 * r.cpu.busy) / (2 * r.cpu.wall), 0)}%`,
    ];
  };
  const rows = results.map((r) => [
    r.workers,
    fmt(r.rowsPerSecond),
    fmt(r.imagesPerSecond),
    fmt(r.totalMs / 1000),
    `${fmt(r.answerMs, 0)} (${fmt(r.parseMs, 0)})`,
    fmt(r.pickupMs, 0),
    fmt(r.workMs / 1000),
    r.quarters.map((q) => fmt(q)).join(' / '),
    `${fmt((100 * r.imagesPerSecond) / reference, 0)}%`,
  ]);
  const cpuRows = results.map((r) => [r.workers, ...cpuCell(r)]);
  const batch = BATCH ?? 8;
  const verdict = one
    ? `**${met ? 'met' : 'missed'}**: one worker ingests ${fmt(one.imagesPerSecond)} images/s, ${fmt(ratio, 2)}x the embedder's ${fmt(reference)} images/s`
    : 'not measured (BENCH_WORKERS has no 1)';
  const md = `## Bulk import — \`npm run bench:ingest\`

${machineLine()}. Native Postgres 15 + pgvector on 127.0.0.1, a fresh scratch database per run.
${ROWS} CSV rows (\`importCatalog\` over HTTP, multipart, ${fmt(csv.length / 1024 / 1024, 2)} MiB), each a new product
with one image URL on a local image server (${DISTINCT} distinct ${fmt(kib)} KiB PNGs, 96x96, \`testImage(i)\` of
the API's import tests, cycled; rendered and fetched once before timing). The API runs with its
in-process worker off; the rows are worked by \`apps/worker\` processes (spawned as children,
\`MODELS=${MODEL}\` = ${results[0]?.models ?? embedder.info.key}, \`WORKER_BATCH_SIZE=${batch}\`, 2 pollers each: the defaults${BATCH !== undefined ? ' except the batch size' : ''}).
**This machine has 2 cores: the API process (which also serves the images), the worker(s) and
Postgres share them**, and other processes may run beside them (load average ${fmt(load0, 2)} at the start,
${fmt(load1, 2)} at the end).

Time runs from sending the mutation to the job's \`finishedAt\` (COMPLETED, every row done).
Each row stores one image, so images/s = rows/s. "Answer" is the mutation's own time (upload,
parse, validate and record every row, queue them); "first row" is the further wait until a
worker starts one (its idle polling interval, 1 s, included); "work" is from then to the end.

${markdownTable(['workers', 'rows/s', 'images/s', 'total s', 'answer ms (to the job row)', 'first row ms', 'work s', 'rows/s by quarter', 'vs embedder'], rows)}

Where the CPU went during each run (CPU seconds; "postgres" is every Postgres process, other
databases included; "other" is the rest of the machine; busy = share of both cores):

${markdownTable(['workers', 'API process', 'workers', 'postgres', 'other', 'busy'], cpuRows)}

The embedder alone (\`embedder.embed(bytes)\` of the same PNGs, ${embedder.info.key} on CPU with the worker's
defaults, ${EMBED_IMAGES} images per round from *c* closed-loop callers, as \`bench:embed\`'s end-to-end rows;
median of 2 rounds before the imports and 1 after): ${EMBED_CONCURRENCY.map((c) => `*c* = ${c}: ${fmt(embedBest[c] as number)} images/s`).join(', ')}.
The reference is the better one (*c* = ${referenceC}).

Goal: ingest >= ${GOAL}x the embedder's throughput with one worker on native Postgres —
${verdict}.
In brackets after the answer: from sending the request to the job row's \`createdAt\` (upload,
parse and validate the CSV); the rest of the answer records the rows and queues them.
For scale: the embedder alone would embed the ${ROWS} images in ${fmt(ROWS / reference)} s.
`;
  await writeSection('ingest', md);
  console.log(`\n${md}`);
  console.log('wrote docs/benchmarks.md (section ingest)');
} finally {
  await cleanup('close the embedder', () => embedder.close());
  await cleanup('close the image server', () => img.close());
}
