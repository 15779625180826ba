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
 * And the bundled product-detector, the same way: bare session runs at batch 1 and 32,
 * detector.detectTensor() (adds the queue, worker thread and decoding the boxes) and
 * detector.detect(jpeg bytes) (adds decoding the image and the letterbox) from 1 caller (batches
 * of one) and 32 (batches fill up), in images/s and ms per image.
 *
 * `--only=detector` (or `--only=embedder`) runs one half and writes no report (a quick look).
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
  createDetector,
  createEmbedder,
  loadDetectorManifest,
  loadManifest,
  preprocessDetectorImage,
  preprocessImage,
  readModelFile,
  type Embedder,
  type ModelFileRef,
} from '@lookalike/inference';
import { machineLine, markdownTable, writeSection } from './lib/report.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const RESNET50_DIR = path.join(ROOT, '.data', 'bench-models', 'resnet50-random');
const THREADS = availableParallelism();
const MAX_BATCH = 32;
// `--smoke`: a few images and one round, no report; to check the script itself.
const SMOKE = process.argv.includes('--smoke');
const ROUNDS = SMOKE ? 1 : 3;
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
if (ONLY !== undefined && ONLY !== 'detector' && ONLY !== 'embedder') {
  throw new Error(`--only must be "detector" or "embedder", got "${ONLY}"`);
}

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

/** What a bare session run needs of a manifest (an embedder's or a detector's). */
type BareModel = ModelFileRef & { input: { name: string; size: number; channels: number } };

/** The limit: batches of `maxBatch` pre-made tensors through one session, back to back. */
async function bare(manifest: BareModel, images: number, maxBatch = MAX_BATCH): Promise<Run> {
  const session = await ort.InferenceSession.create(await readModelFile(manifest), {
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    executionProviders: ['cpu'],
  });
  const { size, channels } = manifest.input;
  const batch = Math.min(maxBatch, images);
  const input = new ort.Tensor(
    'float32',
    new Float32Array(batch * channels * size * size).fill(0.1),
    [batch, channels, size, size],
  );
  const dispose = (out: ort.InferenceSession.OnnxValueMapType) => {
    for (const v of Object.values(out)) v.dispose();
  };
  dispose(await session.run({ [manifest.input.name]: input })); // warm-up
  const latencies: number[] = [];
  const start = performance.now();
  for (let done = 0; done < images; done += batch) {
    const t = performance.now();
    dispose(await session.run({ [manifest.input.name]: input }));
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

/** The detector at c = 1 (batches of one) and c = 32 (batches fill up to MAX_BATCH): bare
 * session runs at the same batch size, detectTensor() on a pre-made tensor, detect() of a JPEG. */
async function benchDetector(images: Record<number, number>, jpeg: Buffer) {
  const manifest = await loadDetectorManifest('product-detector');
  const tensor = (await preprocessDetectorImage(jpeg, manifest.input)).tensor;
  const detector = await createDetector({
    model: manifest,
    device: 'cpu',
    maxBatch: MAX_BATCH,
    threads: THREADS,
  });
  const rows: (string | number)[][] = [];
  const perImage = (r: Run) => 1000 / r.imagesPerSecond;
  for (const c of [1, 32]) {
    const n = images[c]!;
    const batch = c === 1 ? 1 : MAX_BATCH;
    const rounds: { bare: Run; tensor: Run; e2e: Run }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const b = await bare(manifest, n, batch);
      const t = await load(c, n, () => detector.detectTensor(tensor));
      const e = await load(c, n, () => detector.detect(jpeg));
      rounds.push({ bare: b, tensor: t, e2e: e });
      console.log(
        `${manifest.id} c=${c} round ${r + 1}: bare (batch ${batch}) ${fmt(b.imagesPerSecond)}/s, detectTensor ${fmt(t.imagesPerSecond)}/s (${fmt(perImage(t), 2)} ms/image), detect ${fmt(e.imagesPerSecond)}/s (${fmt(perImage(e), 2)} ms/image)`,
      );
    }
    const pick = (k: 'bare' | 'tensor' | 'e2e') =>
      median(
        rounds.map((r) => r[k]),
        (x) => x.imagesPerSecond,
      );
    const [b, t, e] = [pick('bare'), pick('tensor'), pick('e2e')];
    rows.push([
      manifest.id,
      c,
      batch,
      `${fmt(b.imagesPerSecond)} (${fmt(perImage(b), 2)} ms)`,
      fmt(t.imagesPerSecond),
      fmt(perImage(t), 2),
      `${fmt(t.p50)} / ${fmt(t.p95)}`,
      fmt(e.imagesPerSecond),
      fmt(perImage(e), 2),
      `${fmt(e.p50)} / ${fmt(e.p95)}`,
    ]);
  }
  const stats = detector.stats();
  await detector.close();
  return { rows, meanBatch: stats.images / stats.batches };
}

async function preprocessing(jpeg: Buffer, embedders: boolean, detector: boolean) {
  const rows: (string | number)[][] = [];
  /** One model's preprocessing of the JPEG, at concurrency 1 and 4: a table row each. */
  const measure = async (
    manifest: { id: string; input: { fit: string; size: number } },
    run1: () => Promise<unknown>,
  ) => {
    for (const c of [1, 4]) {
      const run = await load(c, SMOKE ? 8 : 200, run1);
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
  };
  if (detector) {
    const manifest = await loadDetectorManifest('product-detector');
    await measure(manifest, () => preprocessDetectorImage(jpeg, manifest.input));
  }
  if (!embedders) return rows;
  for (const location of ['fashion-resnet', ensureResnet50()]) {
    const manifest = await loadManifest(location);
    await measure(manifest, () => preprocessImage(jpeg, manifest.input));
  }
  return rows;
}

const runEmbedders = ONLY !== 'detector';
const runDetector = ONLY !== 'embedder';
const jpeg1200 = await productJpeg(1200);
const jpeg640 = await productJpeg(640);
const scale = (counts: Record<number, number>) =>
  SMOKE
    ? Object.fromEntries(
        Object.entries(counts).map(([c, n]) => [c, Math.max(Number(c), Math.ceil(n / 20))]),
      )
    : counts;
let fashion: Awaited<ReturnType<typeof benchModel>> | null = null;
let big: Awaited<ReturnType<typeof benchModel>> | null = null;
if (runEmbedders) {
  const resnet50 = ensureResnet50();
  fashion = await benchModel(
    'fashion-resnet',
    'fashion-resnet',
    scale({ 1: 1000, 8: 3000, 32: 4000 }),
    jpeg640,
  );
  big = await benchModel(
    'resnet50 (random weights)',
    resnet50,
    scale({ 1: 24, 8: 64, 32: 96 }),
    jpeg640,
  );
}
const detection = runDetector ? await benchDetector(scale({ 1: 1000, 32: 4000 }), jpeg640) : null;
const pre = await preprocessing(jpeg1200, runEmbedders, runDetector);

const embedding =
  fashion && big
    ? [
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
      ]
    : [];
const detecting = detection
  ? [
      '### Detection (product-detector, 128x128 letterbox, CenterNet heads)',
      '',
      '- **bare**: `InferenceSession.run` in a loop on pre-made batches of the size shown (1 for *c* = 1, ' +
        MAX_BATCH +
        ' for *c* = 32).',
      '- **detectTensor**: `detector.detectTensor()` from *c* callers on a pre-made tensor: queue, micro-batching, worker thread, decoding peaks into boxes with NMS.',
      '- **detect**: `detector.detect(bytes)` of the 640x640 JPEG: adds sniffing, decoding and the letterbox.',
      '- ms/image = 1000 / images/s (throughput); p50 / p95 are per call.',
      '',
      markdownTable(
        [
          'model',
          'c',
          'batch',
          'bare img/s (ms/image)',
          'detectTensor img/s',
          'detectTensor ms/image',
          'detectTensor p50 / p95 ms',
          'detect img/s',
          'detect ms/image',
          'detect p50 / p95 ms',
        ],
        detection.rows,
      ),
      '',
      `Mean micro-batch size over the detector runs: ${detection.meanBatch.toFixed(1)}.`,
      '',
    ]
  : [];

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
  ...embedding,
  ...detecting,
  '### Preprocessing a 1200x1200 JPEG (decode, orientation, resize, model-specific steps)',
  '',
  markdownTable(['model', 'pipeline', 'concurrency', 'images/s', 'p50 / p95 ms'], pre),
].join('\n');
const partial = SMOKE || ONLY !== undefined;
if (partial) console.log(md);
else await writeSection('embed', md);
if (fashion && big) {
  console.log(
    `\nembedder / bare at concurrency 32: fashion-resnet ${(100 * fashion.summary[32]!).toFixed(0)}%, resnet50 ${(100 * big.summary[32]!).toFixed(0)}%`,
  );
}
if (!partial) console.log('wrote docs/benchmarks.md (section embed)');
