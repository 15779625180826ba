import { afterEach, describe, expect, it, vi } from 'vitest';
import { Batcher, type Runner } from './batcher.js';

const INPUT = 3; // floats per request tensor
const OUTPUT = 2; // floats per request result

interface Run {
  data: Float32Array;
  n: number;
}

/**
 * A stand-in for a session worker: records each batch, and answers when told (or by itself, one
 * event-loop turn later, when `auto`). Its answer gives request i of the batch
 * [10 x its tensor's first float, batch size]. Like SessionWorker it is busy until it answers,
 * and reports that it is idle right after settling the batch.
 */
class FakeRunner implements Runner {
  readonly runs: Run[] = [];
  private current: {
    run: Run;
    resolve: (out: Float32Array) => void;
    reject: (err: unknown) => void;
  } | null = null;
  private readonly onIdle: () => void;
  private readonly auto: boolean;

  constructor(onIdle: () => void, auto: boolean) {
    this.onIdle = onIdle;
    this.auto = auto;
  }

  get busy(): boolean {
    return this.current !== null;
  }

  run(data: Float32Array, n: number): Promise<Float32Array> {
    if (this.current) throw new Error('FakeRunner.run while busy');
    return new Promise((resolve, reject) => {
      const run = { data: data.slice(), n };
      this.runs.push(run);
      this.current = { run, resolve, reject };
      if (this.auto)
        setImmediate(() => {
          this.answer();
        });
    });
  }

  answer(): void {
    const job = this.take();
    const out = new Float32Array(job.run.n * OUTPUT);
    for (let i = 0; i < job.run.n; i++) {
      out[i * OUTPUT] = 10 * job.run.data[i * INPUT]!;
      out[i * OUTPUT + 1] = job.run.n;
    }
    job.resolve(out);
    this.onIdle();
  }

  fail(err: unknown): void {
    this.take().reject(err);
    this.onIdle();
  }

  private take() {
    const job = this.current;
    if (!job) throw new Error('FakeRunner: no batch to answer');
    this.current = null;
    return job;
  }
}

function setup({ runners = 1, maxBatch = 4, maxDelayMs = 0, auto = false } = {}) {
  const fakes: FakeRunner[] = [];
  const batcher: Batcher = new Batcher({
    runners: { idle: () => fakes.find((f) => !f.busy) },
    maxBatch,
    maxDelayMs,
    inputSize: INPUT,
    outputSize: OUTPUT,
  });
  for (let i = 0; i < runners; i++)
    fakes.push(
      new FakeRunner(() => {
        batcher.schedule();
      }, auto),
    );
  return { batcher, fakes, fake: fakes[0]! };
}

const tensor = (v: number) => new Float32Array(INPUT).fill(v);
/** Wait until the current event-loop turn (and the batcher's setImmediate) has passed. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const sizes = (f: FakeRunner) => f.runs.map((r) => r.n);
/** Whether `p` has settled by now (after pending microtasks). */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await nextTurn();
  return settled;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Batcher', () => {
  it('sends a full batch at once, packing the tensors in order', () => {
    const { batcher, fake } = setup({ maxBatch: 3 });
    void batcher.enqueue(tensor(1));
    void batcher.enqueue(tensor(2));
    expect(fake.runs).toHaveLength(0);
    void batcher.enqueue(tensor(3));
    // Synchronously, inside the third enqueue().
    expect(sizes(fake)).toEqual([3]);
    expect([...fake.runs[0]!.data]).toEqual([1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });

  it('gathers the requests of one event-loop turn into one run, sent after that turn', async () => {
    const { batcher, fake } = setup({ maxBatch: 8 });
    const results = [batcher.enqueue(tensor(1)), batcher.enqueue(tensor(2))];
    // A caller that resubmits when a promise resolves is still in the same turn.
    await Promise.resolve().then(() => {
      results.push(batcher.enqueue(tensor(3)));
    });
    expect(fake.runs).toHaveLength(0);
    await nextTurn();
    expect(sizes(fake)).toEqual([3]);
    fake.answer();
    expect((await Promise.all(results)).map((r) => r[1])).toEqual([3, 3, 3]);
  });

  it('waits up to maxDelayMs for stragglers, then sends the partial batch', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance'],
    });
    const { batcher, fake } = setup({ maxBatch: 8, maxDelayMs: 50 });
    void batcher.enqueue(tensor(1));
    await vi.advanceTimersByTimeAsync(20);
    void batcher.enqueue(tensor(2));
    await vi.advanceTimersByTimeAsync(29);
    expect(fake.runs).toHaveLength(0);
    // 50 ms after the oldest request, not after the newest.
    await vi.advanceTimersByTimeAsync(1);
    expect(sizes(fake)).toEqual([2]);
  });

  it('does not wait for maxDelayMs once the batch is full', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate', 'performance'],
    });
    const { batcher, fake } = setup({ maxBatch: 2, maxDelayMs: 1_000 });
    void batcher.enqueue(tensor(1));
    await vi.advanceTimersByTimeAsync(10);
    void batcher.enqueue(tensor(2));
    expect(sizes(fake)).toEqual([2]);
  });

  it('gives every caller its own slice of its batch result', async () => {
    const { batcher, fakes } = setup({ maxBatch: 3, runners: 2, auto: true });
    const values = [4, 8, 15, 16, 23, 42, 7];
    const results = await Promise.all(values.map((v) => batcher.enqueue(tensor(v))));
    results.forEach((r, i) => {
      expect(r).toHaveLength(OUTPUT);
      expect(r[0]).toBe(10 * values[i]!);
    });
    expect(fakes.flatMap(sizes).reduce((a, b) => a + b, 0)).toBe(values.length);
  });

  it('never puts more than maxBatch requests in one run, and counts the runs', async () => {
    const { batcher, fake } = setup({ maxBatch: 3, auto: true });
    await Promise.all(Array.from({ length: 7 }, (_, i) => batcher.enqueue(tensor(i))));
    expect(sizes(fake)).toEqual([3, 3, 1]);
    expect(batcher.counts()).toEqual({ batches: 3, images: 7, largestBatch: 3 });
  });

  it('queues while the runner is busy, and sends what piled up when it is free', async () => {
    const { batcher, fake } = setup({ maxBatch: 4 });
    const first = Array.from({ length: 4 }, (_, i) => batcher.enqueue(tensor(i)));
    const later = Array.from({ length: 3 }, (_, i) => batcher.enqueue(tensor(10 + i)));
    expect(sizes(fake)).toEqual([4]);
    expect(batcher.queued).toBe(3);
    expect(batcher.running).toBe(4);
    fake.answer();
    await Promise.all(first);
    await nextTurn();
    expect(sizes(fake)).toEqual([4, 3]);
    fake.answer();
    expect((await Promise.all(later)).map((r) => r[0])).toEqual([100, 110, 120]);
    expect(batcher.running).toBe(0);
  });

  it('rejects exactly the requests of a failed run; the next batch still runs', async () => {
    const { batcher, fake } = setup({ maxBatch: 2 });
    const failed = [batcher.enqueue(tensor(1)), batcher.enqueue(tensor(2))];
    // Still queued (a partial batch) when the run fails.
    const next = batcher.enqueue(tensor(3));
    const boom = new Error('session run failed');
    fake.fail(boom);
    for (const p of failed) await expect(p).rejects.toBe(boom);
    await nextTurn();
    expect(sizes(fake)).toEqual([2, 1]);
    fake.answer();
    expect((await next)[0]).toBe(30);
  });

  it('rejects with an Error even when a run fails with something else', async () => {
    const { batcher, fake } = setup({ maxBatch: 1 });
    const p = batcher.enqueue(tensor(1));
    fake.fail('out of memory');
    const err: unknown = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('out of memory');
  });

  it('keeps two runners busy in parallel, each with its own batch', async () => {
    const { batcher, fakes } = setup({ maxBatch: 2, runners: 2 });
    const [a, b] = [fakes[0]!, fakes[1]!];
    const results = [1, 2, 3, 4].map((v) => batcher.enqueue(tensor(v)));
    expect(sizes(a)).toEqual([2]);
    expect(sizes(b)).toEqual([2]);
    expect(batcher.running).toBe(4);
    b.answer();
    expect((await Promise.all(results.slice(2))).map((r) => r[0])).toEqual([30, 40]);
    expect(await isSettled(Promise.all(results.slice(0, 2)))).toBe(false);
    a.answer();
    expect((await Promise.all(results.slice(0, 2))).map((r) => r[0])).toEqual([10, 20]);
  });

  it('close() sends a partial batch at once, and settled() waits for the runs to finish', async () => {
    const { batcher, fake } = setup({ maxBatch: 8, maxDelayMs: 60_000 });
    const queued = batcher.enqueue(tensor(1));
    await nextTurn();
    expect(fake.runs).toHaveLength(0);
    const settled = batcher.settled();
    batcher.close();
    expect(sizes(fake)).toEqual([1]);
    // Requests that reach the queue while closing are drained too.
    const late = batcher.enqueue(tensor(2));
    expect(await isSettled(settled)).toBe(false);
    fake.answer();
    expect(sizes(fake)).toEqual([1, 1]);
    expect(await isSettled(settled)).toBe(false);
    fake.answer();
    await settled;
    expect((await queued)[0]).toBe(10);
    expect((await late)[0]).toBe(20);
  });

  it('failQueued() rejects what is queued, not what is running', async () => {
    const { batcher, fake } = setup({ maxBatch: 2 });
    const running = [batcher.enqueue(tensor(1)), batcher.enqueue(tensor(2))];
    const queued = batcher.enqueue(tensor(3));
    batcher.failQueued(() => new Error('no worker'));
    await expect(queued).rejects.toThrow('no worker');
    expect(batcher.queued).toBe(0);
    const settled = batcher.settled();
    expect(await isSettled(settled)).toBe(false);
    fake.answer();
    expect((await Promise.all(running)).map((r) => r[0])).toEqual([10, 20]);
    await settled;
  });

  it('failQueued() settles the batcher when no runner is left to take the queue', async () => {
    const { batcher } = setup({ runners: 0 });
    const queued = batcher.enqueue(tensor(1));
    await nextTurn();
    const settled = batcher.settled();
    expect(await isSettled(settled)).toBe(false);
    batcher.failQueued(() => new Error('no worker'));
    await expect(queued).rejects.toThrow('no worker');
    expect(await isSettled(settled)).toBe(true);
  });

  it('settled() resolves at once when nothing is queued or running', async () => {
    const { batcher } = setup();
    expect(await isSettled(batcher.settled())).toBe(true);
  });
});
