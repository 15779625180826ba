import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEmbedder, type EmbedResult, type Embedder } from './embedder.js';
import {
  BusyError,
  CorruptImageError,
  DeviceUnavailableError,
  EmbedderClosedError,
  ImageTooLargeError,
  InferenceError,
  ModelError,
  UnsupportedImageError,
} from './errors.js';
import { bundledModelPath, loadManifest } from './manifest.js';
import { SessionWorker } from './session-worker-client.js';
import { catalogPng, cosine, pngBomb } from './testing/images.js';

const images: Buffer[] = [];
let solo: EmbedResult[] = [];
let embedder: Embedder;

beforeAll(async () => {
  embedder = await createEmbedder({ model: 'fashion-resnet', device: 'cpu', maxBatch: 16 });
  for (let i = 0; i < 10; i++)
    images.push(await catalogPng(i, { size: 120 + 20 * i, colour: [20 * i, 50, 120] }));
  // Reference vectors, each embedded alone (nothing else in flight, so a batch of one).
  solo = [];
  for (const img of images) solo.push(await embedder.embed(img));
});

afterAll(async () => {
  await embedder.close();
});

describe('createEmbedder', () => {
  it('describes the model and the provider in use', () => {
    expect(embedder.info).toMatchObject({
      id: 'fashion-resnet',
      version: 1,
      key: 'fashion-resnet-v1',
      dims: 128,
      executionProvider: 'cpu',
      normalized: true,
    });
    expect(embedder.info.defaults.cosine?.matchThreshold).toBeGreaterThan(
      embedder.info.defaults.cosine?.searchThreshold ?? 1,
    );
  });

  it('returns L2-normalised vectors of the manifest dims, with the decoded image', () => {
    const r = solo[0]!;
    expect(r.vector).toBeInstanceOf(Float32Array);
    expect(r.vector.length).toBe(128);
    expect(Math.hypot(...r.vector)).toBeCloseTo(1, 5);
    expect(r.image).toMatchObject({ mime: 'image/png', width: 120, height: 120 });
  });

  it('gives different products different vectors', () => {
    expect(cosine(solo[0]!.vector, solo[1]!.vector)).toBeLessThan(0.99);
  });

  it('answers 200 concurrent calls, each with its own vector, in shared micro-batches', async () => {
    const before = embedder.stats();
    const order = Array.from({ length: 200 }, (_, i) => (i * 7) % images.length);
    const results = await Promise.all(order.map((i) => embedder.embed(images[i]!)));
    results.forEach((r, k) => {
      expect(cosine(r.vector, solo[order[k]!]!.vector)).toBeGreaterThanOrEqual(0.9999);
    });
    const after = embedder.stats();
    expect(after.images - before.images).toBe(200);
    // Fewer runs than images: requests were batched together.
    expect(after.batches - before.batches).toBeLessThan(200);
    expect(after.largestBatch).toBeGreaterThan(1);
    expect(after.largestBatch).toBeLessThanOrEqual(16);
  });

  it('embedBatch returns per-item results and failures in order', async () => {
    const out = await embedder.embedBatch([
      images[2]!,
      new Uint8Array([1, 2, 3]),
      { bytes: images[3]! },
    ]);
    expect(out.map((r) => r.ok)).toEqual([true, false, true]);
    if (out[0]?.ok) expect(cosine(out[0].vector, solo[2]!.vector)).toBeGreaterThanOrEqual(0.9999);
    if (out[1] && !out[1].ok) expect(out[1].error).toBeInstanceOf(UnsupportedImageError);
  });

  it('rejects bad inputs with typed errors and stays healthy', async () => {
    const jpeg = await sharp(images[4]).jpeg().toBuffer();
    const cases: [Uint8Array, new (...args: never[]) => Error][] = [
      [new Uint8Array(0), CorruptImageError],
      [jpeg.subarray(0, jpeg.length >> 1), CorruptImageError],
      [new TextEncoder().encode('%PDF-1.7 not an image'), UnsupportedImageError],
      [pngBomb(100_000, 100_000), ImageTooLargeError],
      [Buffer.concat([jpeg, Buffer.alloc(26 * 1024 * 1024)]), ImageTooLargeError],
    ];
    for (const [bytes, type] of cases) {
      const err = await embedder.embed(bytes).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect((err as Error).message).toContain('fashion-resnet-v1');
    }
    const again = await embedder.embed(images[5]!);
    expect(cosine(again.vector, solo[5]!.vector)).toBeGreaterThanOrEqual(0.9999);
    expect(embedder.stats()).toMatchObject({ waiting: 0, running: 0 });
  });

  it('embeds a preprocessed tensor and checks its size', async () => {
    await expect(embedder.embedTensor(new Float32Array(10))).rejects.toBeInstanceOf(RangeError);
    const v = await embedder.embedTensor(new Float32Array(28 * 28));
    expect(v.length).toBe(128);
  });
});

describe('queue limits and close()', () => {
  it('answers BusyError when the queue is full, and recovers', async () => {
    const small = await createEmbedder({
      model: 'fashion-resnet',
      device: 'cpu',
      maxQueue: 4,
      maxBatch: 2,
    });
    try {
      const settled = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) => small.embed(images[i % 10]!)),
      );
      const busy = settled.filter((s) => s.status === 'rejected' && s.reason instanceof BusyError);
      const ok = settled.filter((s) => s.status === 'fulfilled');
      expect(busy.length).toBeGreaterThan(0);
      expect(ok.length).toBeGreaterThanOrEqual(4);
      expect(busy.length + ok.length).toBe(40);
      const again = await small.embed(images[0]!);
      expect(cosine(again.vector, solo[0]!.vector)).toBeGreaterThanOrEqual(0.9999);
    } finally {
      await small.close();
    }
  });

  it('close() finishes pending work by default, then refuses new work', async () => {
    const e = await createEmbedder({ model: 'fashion-resnet', device: 'cpu', maxBatch: 4 });
    const pending = Array.from({ length: 30 }, (_, i) => e.embed(images[i % 10]!));
    await e.close();
    const results = await Promise.all(pending);
    results.forEach((r, i) => {
      expect(cosine(r.vector, solo[i % 10]!.vector)).toBeGreaterThanOrEqual(0.9999);
    });
    await expect(e.embed(images[0]!)).rejects.toBeInstanceOf(EmbedderClosedError);
  });

  it('close({ drain: false }) rejects what has not run yet, and every call settles', async () => {
    const e = await createEmbedder({ model: 'fashion-resnet', device: 'cpu', maxBatch: 2 });
    const pending = Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => e.embed(images[i % 10]!)),
    );
    await e.close({ drain: false });
    const settled = await pending;
    const rejected = settled.filter((s) => s.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const s of rejected) expect(s.reason).toBeInstanceOf(EmbedderClosedError);
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled')
        expect(cosine(s.value.vector, solo[i % 10]!.vector)).toBeGreaterThanOrEqual(0.9999);
    });
  });
});

describe('worker failures', () => {
  const tensor = () => new Float32Array(28 * 28);

  /** Records every SessionWorker the embedder starts; `fail` makes later starts reject. */
  function watchStarts() {
    const started: SessionWorker[] = [];
    const start = SessionWorker.start.bind(SessionWorker);
    let failure: Error | null = null;
    vi.spyOn(SessionWorker, 'start').mockImplementation(async (config) => {
      if (failure) throw failure;
      const r = await start(config);
      started.push(r.worker);
      return r;
    });
    return {
      started,
      fail: (err: Error) => {
        failure = err;
      },
    };
  }

  /** End a worker's thread the way a native crash would: without close(), with a non-zero exit
   * code, queued messages never read. Resolves once the thread has exited (after SessionWorker's
   * own exit handler has run). The thread ends itself between two runs ('abort'): terminate()
   * while onnxruntime-node is inside a run can abort the whole test process natively. */
  const crash = async (w: SessionWorker) => {
    const thread = (w as unknown as { worker: Worker }).worker;
    const exited = new Promise<void>((resolve) =>
      thread.once('exit', () => {
        resolve();
      }),
    );
    thread.postMessage({ type: 'abort' });
    await exited;
  };

  const expectNoWorker = (err: unknown) => {
    expect(err).toBeInstanceOf(InferenceError);
    expect(err).toMatchObject({ code: 'WORKER_FAILED' });
    expect((err as Error).message).toContain('fashion-resnet-v1');
  };

  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('rejects queued and new requests at once when a crashed worker cannot be restarted', async () => {
    const workers = watchStarts();
    let restartFailed!: () => void;
    const warned = new Promise<void>((resolve) => (restartFailed = resolve));
    const e = await createEmbedder({
      model: 'fashion-resnet',
      device: 'cpu',
      maxBatch: 2,
      logger: {
        warn: () => {
          restartFailed();
        },
      },
    });
    try {
      const queued = Promise.allSettled(Array.from({ length: 10 }, () => e.embedTensor(tensor())));
      workers.fail(new Error('cannot allocate memory'));
      await crash(workers.started[0]!);
      await warned;
      // Every queued call settles; a batch may have finished before the thread ended.
      const rejected = (await queued).filter((s) => s.status === 'rejected');
      expect(rejected.length).toBeGreaterThan(0);
      for (const s of rejected) expectNoWorker(s.reason);
      // New requests are refused, not queued behind a worker that will never come.
      const later = [e.embed(images[0]!), e.embedTensor(tensor())];
      expect(e.stats().waiting).toBe(0);
      for (const call of later) expectNoWorker(await call.catch((err: unknown) => err));
    } finally {
      await e.close({ drain: false });
    }
  });

  it('close() settles queued work and resolves when the last worker dies while draining', async () => {
    const workers = watchStarts();
    const e = await createEmbedder({ model: 'fashion-resnet', device: 'cpu', maxBatch: 2 });
    const pending = Promise.allSettled(Array.from({ length: 20 }, () => e.embedTensor(tensor())));
    const closing = e.close();
    await crash(workers.started[0]!);
    expect(e.stats().waiting).toBe(0);
    await closing;
    const settled = await pending;
    const rejected = settled.filter((s) => s.status === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const s of rejected) expectNoWorker(s.reason);
  });

  it('gives no work to a worker between its crash and its exit; the replacement answers', async () => {
    const workers = watchStarts();
    const e = await createEmbedder({ model: 'fashion-resnet', device: 'cpu' });
    try {
      const dying = workers.started[0]!;
      const thread = (dying as unknown as { worker: Worker }).worker;
      // Node reports an uncaught exception in the thread ('error'), then ends it ('exit').
      thread.emit('error', new Error('native abort'));
      const answer = e.embedTensor(tensor());
      await crash(dying);
      const vector = await answer;
      expect(vector).toHaveLength(128);
      expect(workers.started).toHaveLength(2);
    } finally {
      await e.close();
    }
  });

  it('close() lets each worker release its session and exit by itself', async () => {
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    const e = await createEmbedder({ model: 'fashion-resnet', device: 'cpu', workers: 2 });
    await e.embed(images[0]!);
    await e.close();
    expect(terminate).not.toHaveBeenCalled();
  });

  it('close() terminates a worker that does not exit within its grace period', async () => {
    const workers = watchStarts();
    const e = await createEmbedder({ model: 'fashion-resnet', device: 'cpu' });
    // A worker stuck in native code never reads the close message (nothing else is posted here).
    const post = vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(() => undefined);
    const terminate = vi.spyOn(Worker.prototype, 'terminate');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const closing = e.close();
    await vi.advanceTimersByTimeAsync(1_999);
    expect(post).toHaveBeenCalledWith({ type: 'close' });
    expect(terminate).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(terminate).toHaveBeenCalledTimes(1);
    await closing;
    expect(workers.started[0]!.alive).toBe(false);
  });
});

describe('model loading', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lookalike-model-'));
    await copyFile(
      path.join(bundledModelPath('fashion-resnet'), 'model.onnx'),
      path.join(dir, 'model.onnx'),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeManifest(edit: (m: Record<string, unknown>) => void): Promise<string> {
    const m = JSON.parse(
      await readFile(path.join(bundledModelPath('fashion-resnet'), 'model.json'), 'utf8'),
    ) as Record<string, unknown>;
    edit(m);
    await writeFile(path.join(dir, 'model.json'), JSON.stringify(m));
    return dir;
  }

  it('refuses a model file whose sha256 differs from the manifest', async () => {
    const location = await writeManifest((m) => {
      m.sha256 = '0'.repeat(64);
    });
    const err = await createEmbedder({ model: location, device: 'cpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/fashion-resnet-v1.*sha256/);
  });

  it('refuses a manifest whose output dims do not match the graph', async () => {
    const location = await writeManifest((m) => {
      (m.output as Record<string, unknown>).dims = 64;
    });
    const err = await createEmbedder({ model: location, device: 'cpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).toMatch(/fashion-resnet-v1.*128 dims.*64/);
  });

  it('names the model when the output name is wrong', async () => {
    const location = await writeManifest((m) => {
      (m.output as Record<string, unknown>).name = 'logits';
    });
    await expect(createEmbedder({ model: location, device: 'cpu' })).rejects.toThrow(
      /fashion-resnet-v1.*"logits"/,
    );
  });

  it("device 'cuda' either runs on CUDA or fails clearly; 'auto' falls back to CPU with one warning", async () => {
    const cuda = await createEmbedder({ model: 'fashion-resnet', device: 'cuda' }).catch(
      (e: unknown) => e,
    );
    if (cuda instanceof Error) {
      expect(cuda).toBeInstanceOf(DeviceUnavailableError);
      expect(cuda.message).toMatch(/fashion-resnet-v1.*CUDA.*ONNXRUNTIME_NODE_INSTALL=cuda12/);
      const warnings: string[] = [];
      const auto = await createEmbedder({
        model: 'fashion-resnet',
        device: 'auto',
        workers: 2,
        logger: { warn: (m) => warnings.push(m) },
      });
      expect(auto.info.executionProvider).toBe('cpu');
      expect(warnings).toHaveLength(1);
      await auto.close();
    } else {
      expect((cuda as Embedder).info.executionProvider).toBe('cuda');
      await (cuda as Embedder).close();
    }
  });

  it('loads the bundled manifest with its key and thresholds', async () => {
    const m = await loadManifest('fashion-resnet');
    expect(m.key).toBe('fashion-resnet-v1');
    expect(m.output).toMatchObject({ name: 'embedding', dims: 128, normalize: true });
    expect(m.defaults?.euclidean?.matchThreshold).toBeLessThan(
      m.defaults?.euclidean?.searchThreshold ?? 0,
    );
  });
});
