/**
 * Embedding throughput and latency: `npm run bench:embed` (writes docs/benchmarks.md#embed).
 *
 * For the bundled fashion-resnet and torchvision's ResNet-50 (random weights: no pretrained
 * weights can be downloaded here, and speed does not depend on them), on CPU:
 *  - bare:     one InferenceSession.run loop on pre-made batches in the main thread, no queue,
 *              no workers, no preprocessing: the limit for this machine;
 *  - pipeline: embedder.embedTensor() from c concurrent callers (queue, micro-batching, worker
 *              thread, transfer, normalisation), pre-made tensors, c = 1, 8, 32;
 *  - end-to-end: embedder.embed(jpeg bytes) from c callers (adds sniffing, decoding, preprocessing);
 * plus preprocessing alone for a 1200x1200 JPEG. Bare and embedder runs alternate in rounds and
 * the median round is reported, so load from other processes hits both alike.
 *
 * The ResNet-50 ONNX file (~95 MB) is generated on first use into .data/bench-models/ (git
 * ignores .data/) by tools/model/export_resnet50.py with Debian's /usr/bin/python3.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import {
  createEmbedder,
  loadManifest,
  preprocessImage,
  readModelFile,
  type Embedder,
  type LoadedManifest,
} from '@lookalike/inference';
import { machineLine, markdownTable, writeSection } from './lib/report.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const RESNET50_DIR = path.join(ROOT, '.data', 'bench-models', 'resnet50-random');
const THREADS = availableParallelism();
const MAX_BATCH = 32;
// `--smoke`: a few images and one round, no report; to check the script itself.
const SMOKE = process.argv.includes('--smoke');
const ROUNDS = SMOKE ? 1 : 3;

function ensureResnet50(): string {
  if (!existsSync(path.join(RESNET50_DIR, 'model.json'))) {
    console.log('exporting torchvision ResNet-50 (random weights) to', RESNET50_DIR);
    execFileSync(
      '/usr/bin/python3',
      [path.join(ROOT, 'tools', 'model', 'export_resnet50.py'), '--out', RESNET50_DIR],
      { stdio: 'inherit' },
    );
  }
  return RESNET50_DIR;
}

interface Run {
  imagesPerSecond: number;
  p50: number;
  p95: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function median<T>(runs: T[], key: (r: T) => number): T {
  return [...runs].sort((a, b) => key(a) - key(b))[Math.floor(runs.length / 2)]!;
}

/** The limit: batches of MAX_BATCH pre-made tensors through one session, back to back. */
async function bare(manifest: LoadedManifest, images: number): Promise<Run> {
  const session = await ort.InferenceSession.create(await readModelFile(manifest), {
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    executionProviders: ['cpu'],
  });
  const { size, channels } = manifest.input;
  const batch = Math.min(MAX_BATCH, images);
  const input = new ort.Tensor(
    'float32',
    new Float32Array(batch * channels * size * size).fill(0.1),
    [batch, channels, size, size],
  );
  const name = session.outputNames[0]!;
  await session.run({ [manifest.input.name]: input }); // warm-up
  const latencies: number[] = [];
  const start = performance.now();
  for (let done = 0; done < images; done += batch) {
    const t = performance.now();
    const out = await session.run({ [manifest.input.name]: input });
    out[name]?.dispose();
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - start) / 1000;
  await session.release();
  latencies.sort((a, b) => a - b);
  return {
    imagesPerSecond: (latencies.length * batch) / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
  };
}

/** c closed-loop callers, `images` calls in total. */
async function load(c: number, images: number, call: () => Promise<unknown>): Promise<Run> {
  const latencies: number[] = [];
  let issued = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (issued < images) {
        issued++;
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    imagesPerSecond: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
  };
}

/** A product photo: the first parity item, colourised on white, as a JPEG of `side` px. */
async function productJpeg(side: number): Promise<Buffer> {
  const item = path.join(ROOT, 'models', 'fashion-resnet', 'parity', '00-grey-t-shirt.png');
  const src = existsSync(item)
    ? sharp(item)
    : sharp({ create: { width: 28, height: 28, channels: 3, background: '#888' } });
  return src
    .negate({ alpha: false })
    .toColourspace('srgb')
    .tint('#3050a0')
    .resize(Math.round(side * 0.8), Math.round(side * 0.8), { kernel: 'cubic' })
    .extend({
      top: side / 10,
      bottom: side / 10,
      left: side / 10,
      right: side / 10,
      background: '#ffffff',
    })
    .jpeg({ quality: 88 })
    .toBuffer();
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

async function benchModel(
  label: string,
  location: string,
  images: Record<number, number>,
  jpeg: Buffer,
) {
  const manifest = await loadManifest(location);
  const tensor = (await preprocessImage(jpeg, manifest.input)).tensor;
  const rows: (string | number)[][] = [];
  const summary: Record<number, number> = {};
  const embedder: Embedder = await createEmbedder({
    model: manifest,
    device: 'cpu',
    maxBatch: MAX_BATCH,
    threads: THREADS,
  });
  const two: Embedder = await createEmbedder({
    model: manifest,
    device: 'cpu',
    maxBatch: MAX_BATCH,
    threads: THREADS,
    workers: 2,
  });
  for (const c of [1, 8, 32]) {
    const n = images[c]!;
    const rounds: { bare: Run; pipe: Run; pipe2: Run; e2e: Run }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const b = await bare(manifest, n);
      const pipe = await load(c, n, () => embedder.embedTensor(tensor));
      const pipe2 = await load(c, n, () => two.embedTensor(tensor));
      const e2e = await load(c, n, () => embedder.embed(jpeg));
      rounds.push({ bare: b, pipe, pipe2, e2e });
      console.log(
        `${label} c=${c} round ${r + 1}: bare ${fmt(b.imagesPerSecond)}/s, pipeline ${fmt(pipe.imagesPerSecond)}/s, 2 workers ${fmt(pipe2.imagesPerSecond)}/s, end-to-end ${fmt(e2e.imagesPerSecond)}/s`,
      );
    }
    const ratios = rounds
      .map((r) => r.pipe.imagesPerSecond / r.bare.imagesPerSecond)
      .sort((a, b) => a - b);
    const ratio = ratios[Math.floor(ratios.length / 2)]!;
    const pick = (k: 'bare' | 'pipe' | 'pipe2' | 'e2e') =>
      median(
        rounds.map((r) => r[k]),
        (x) => x.imagesPerSecond,
      );
    const [b, p, p2, e] = [pick('bare'), pick('pipe'), pick('pipe2'), pick('e2e')];
    summary[c] = ratio;
    rows.push([
      label,
      c,
      `${fmt(b.imagesPerSecond)}`,
      `${fmt(p.imagesPerSecond)}`,
      `${fmt(p.p50)} / ${fmt(p.p95)}`,
      `${(100 * ratio).toFixed(0)}%`,
      `${fmt(p2.imagesPerSecond)}`,
      `${fmt(e.imagesPerSecond)}`,
      `${fmt(e.p50)} / ${fmt(e.p95)}`,
    ]);
    console.log(
      `${label} c=${c}: embedder/bare = ${(100 * ratio).toFixed(0)}% (median of ${ROUNDS} rounds)`,
    );
  }
  const stats = embedder.stats();
  await Promise.all([embedder.close(), two.close()]);
  return { rows, summary, meanBatch: stats.images / stats.batches };
}

async function preprocessing(jpeg: Buffer) {
  const rows: (string | number)[][] = [];
  for (const location of ['fashion-resnet', ensureResnet50()]) {
    const manifest = await loadManifest(location);
    for (const c of [1, 4]) {
      const run = await load(c, SMOKE ? 8 : 200, () => preprocessImage(jpeg, manifest.input));
      rows.push([
        manifest.id,
        `${manifest.input.fit} ${manifest.input.size}px`,
        c,
        fmt(run.imagesPerSecond),
        `${fmt(run.p50)} / ${fmt(run.p95)}`,
      ]);
      console.log(
        `preprocess 1200x1200 JPEG for ${manifest.id}, c=${c}: ${fmt(run.imagesPerSecond)}/s`,
      );
    }
  }
  return rows;
}

const resnet50 = ensureResnet50();
const jpeg1200 = await productJpeg(1200);
const jpeg640 = await productJpeg(640);
const scale = (counts: Record<number, number>) =>
  SMOKE
    ? Object.fromEntries(
        Object.entries(counts).map(([c, n]) => [c, Math.max(Number(c), Math.ceil(n / 20))]),
      )
    : counts;
const fashion = await benchModel(
  'fashion-resnet',
  'fashion-resnet',
  scale({ 1: 1000, 8: 3000, 32: 4000 }),
  jpeg640,
);
const big = await benchModel(
  'resnet50 (random weights)',
  resnet50,
  scale({ 1: 24, 8: 64, 32: 96 }),
  jpeg640,
);
const pre = await preprocessing(jpeg1200);

const md = [
  '## Embedding (`npm run bench:embed`)',
  '',
  `Machine: ${machineLine()}. CPU execution provider, ${THREADS} ONNX Runtime threads, maxBatch ${MAX_BATCH}; median of ${ROUNDS} alternating rounds.`,
  '',
  '- **bare**: `InferenceSession.run` in a loop on pre-made batches of ' +
    MAX_BATCH +
    ' (the limit).',
  '- **pipeline**: `embedder.embedTensor()` from *c* concurrent callers on pre-made tensors: queue, micro-batching, worker thread, normalisation. Ratio = pipeline / bare.',
  '- **2 workers**: the same with `workers: 2` (two sessions, one thread each).',
  '- **end-to-end**: `embedder.embed(bytes)` of a 640x640 JPEG product shot: adds sniffing, decoding and preprocessing.',
  '- Latencies are per call, in ms (p50 / p95); images/s are whole-run throughput.',
  '',
  markdownTable(
    [
      'model',
      'c',
      'bare img/s',
      'pipeline img/s',
      'pipeline p50 / p95 ms',
      'pipeline / bare',
      '2 workers img/s',
      'end-to-end img/s',
      'end-to-end p50 / p95 ms',
    ],
    [...fashion.rows, ...big.rows],
  ),
  '',
  `Mean micro-batch size over the fashion-resnet runs: ${fashion.meanBatch.toFixed(1)}; ResNet-50: ${big.meanBatch.toFixed(1)}.`,
  '',
  '### Preprocessing a 1200x1200 JPEG (decode, orientation, resize, model-specific steps)',
  '',
  markdownTable(['model', 'pipeline', 'concurrency', 'images/s', 'p50 / p95 ms'], pre),
].join('\n');
if (SMOKE) console.log(md);
else await writeSection('embed', md);
console.log(
  `\nembedder / bare at concurrency 32: fashion-resnet ${(100 * fashion.summary[32]!).toFixed(0)}%, resnet50 ${(100 * big.summary[32]!).toFixed(0)}%`,
);
if (!SMOKE) console.log('wrote docs/benchmarks.md (section embed)');
