import { describe, expect, it, vi } from 'vitest';
import { startWorkers, WorkerPool, type PoolWorker } from './worker-pool.js';

/** A stand-in for a SessionWorker whose crashes and closes the test controls. */
class FakeWorker implements PoolWorker {
  busy = false;
  usable = true;
  alive = true;
  closed = false;
  onIdle: () => void = () => undefined;
  onExit: () => void = () => undefined;

  run(): Promise<Float32Array> {
    this.busy = true;
    return Promise.resolve(new Float32Array(0));
  }

  /** End the way a native crash does: the thread exits without close(). */
  crash(): void {
    this.usable = false;
    this.alive = false;
    this.onIdle();
    this.onExit();
  }

  close(): Promise<void> {
    this.closed = true;
    this.alive = false;
    return Promise.resolve();
  }
}

/** A start() whose calls each wait until the test resolves or rejects them. */
function controlledStart() {
  const calls: { resolve: (w: FakeWorker) => void; reject: (e: Error) => void }[] = [];
  const start = vi.fn(
    () =>
      new Promise<FakeWorker>((resolve, reject) => {
        calls.push({ resolve, reject });
      }),
  );
  return { start, calls };
}

function hooks() {
  return {
    onIdle: vi.fn<() => void>(),
    onNoWorker: vi.fn<() => void>(),
    onRestartFailed: vi.fn<(err: unknown) => void>(),
  };
}

/** Let promise callbacks (a replacement becoming ready) run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('startWorkers', () => {
  it('starts workers one after another after those already started', async () => {
    const first = new FakeWorker();
    const { start, calls } = controlledStart();
    const starting = startWorkers(3, start, [first]);
    await flush();
    // One start at a time: the second waits for the first.
    expect(start).toHaveBeenCalledTimes(1);
    const second = new FakeWorker();
    calls[0]!.resolve(second);
    await flush();
    expect(start).toHaveBeenCalledTimes(2);
    const third = new FakeWorker();
    calls[1]!.resolve(third);
    expect(await starting).toEqual([first, second, third]);
  });

  it('closes the workers already started when one fails to start', async () => {
    const first = new FakeWorker();
    const second = new FakeWorker();
    const boom = new Error('cannot create session');
    const start = vi.fn<() => Promise<FakeWorker>>().mockResolvedValueOnce(second);
    start.mockRejectedValueOnce(boom);
    await expect(startWorkers(4, start, [first])).rejects.toBe(boom);
    expect(first.closed).toBe(true);
    expect(second.closed).toBe(true);
  });
});

describe('WorkerPool', () => {
  it('offers an idle, usable worker', () => {
    const [a, b] = [new FakeWorker(), new FakeWorker()];
    const pool = new WorkerPool([a, b], { start: vi.fn(), ...hooks() });
    expect(pool.size).toBe(2);
    expect(pool.idle()).toBe(a);
    a.busy = true;
    expect(pool.idle()).toBe(b);
    // A worker whose thread threw is going down: no more batches for it.
    b.usable = false;
    expect(pool.idle()).toBeUndefined();
    a.busy = false;
    expect(pool.idle()).toBe(a);
  });

  it('passes on a worker becoming idle', () => {
    const a = new FakeWorker();
    const h = hooks();
    new WorkerPool([a], { start: vi.fn(), ...h });
    a.onIdle();
    expect(h.onIdle).toHaveBeenCalledTimes(1);
  });

  it('replaces a crashed worker in its place, then reports the new idle worker', async () => {
    const [a, b] = [new FakeWorker(), new FakeWorker()];
    const { start, calls } = controlledStart();
    const h = hooks();
    const pool = new WorkerPool([a, b], { start, ...h });
    b.busy = true;
    a.crash();
    expect(start).toHaveBeenCalledTimes(1);
    expect(pool.idle()).toBeUndefined();
    h.onIdle.mockClear();
    const replacement = new FakeWorker();
    calls[0]!.resolve(replacement);
    await flush();
    expect(pool.idle()).toBe(replacement);
    expect(pool.size).toBe(2);
    expect(h.onIdle).toHaveBeenCalled();
    // The replacement is watched too: its own crash is replaced.
    replacement.crash();
    expect(start).toHaveBeenCalledTimes(2);
    expect(h.onNoWorker).not.toHaveBeenCalled();
  });

  it('counts a worker being started as running, so the queue waits for it', () => {
    const a = new FakeWorker();
    const { start } = controlledStart();
    const h = hooks();
    const pool = new WorkerPool([a], { start, ...h });
    a.crash();
    expect(pool.noWorker).toBe(false);
    expect(h.onNoWorker).not.toHaveBeenCalled();
  });

  it('reports no worker when the last crashed worker cannot be replaced', async () => {
    const a = new FakeWorker();
    const { start, calls } = controlledStart();
    const h = hooks();
    const pool = new WorkerPool([a], { start, ...h });
    a.crash();
    const oom = new Error('cannot allocate memory');
    calls[0]!.reject(oom);
    await flush();
    expect(h.onRestartFailed).toHaveBeenCalledWith(oom);
    expect(h.onNoWorker).toHaveBeenCalledTimes(1);
    expect(pool.noWorker).toBe(true);
  });

  it('does not report no worker while another worker is alive', async () => {
    const [a, b] = [new FakeWorker(), new FakeWorker()];
    const { start, calls } = controlledStart();
    const h = hooks();
    const pool = new WorkerPool([a, b], { start, ...h });
    a.crash();
    calls[0]!.reject(new Error('cannot allocate memory'));
    await flush();
    expect(h.onRestartFailed).toHaveBeenCalledTimes(1);
    expect(h.onNoWorker).not.toHaveBeenCalled();
    expect(pool.noWorker).toBe(false);
    expect(pool.idle()).toBe(b);
  });

  it('restarts nothing while closing; the last worker to die reports no worker', () => {
    const [a, b] = [new FakeWorker(), new FakeWorker()];
    const { start } = controlledStart();
    const h = hooks();
    const pool = new WorkerPool([a, b], { start, ...h });
    pool.stopRestarting();
    a.crash();
    expect(start).not.toHaveBeenCalled();
    // b still finishes the queue.
    expect(h.onNoWorker).not.toHaveBeenCalled();
    expect(pool.idle()).toBe(b);
    b.crash();
    expect(start).not.toHaveBeenCalled();
    expect(h.onNoWorker).toHaveBeenCalledTimes(1);
    expect(pool.noWorker).toBe(true);
  });

  it('lets a replacement that is ready while closing help drain; close() closes it', async () => {
    const a = new FakeWorker();
    const { start, calls } = controlledStart();
    const h = hooks();
    const pool = new WorkerPool([a], { start, ...h });
    a.crash();
    pool.stopRestarting();
    h.onIdle.mockClear();
    const replacement = new FakeWorker();
    calls[0]!.resolve(replacement);
    await flush();
    expect(replacement.closed).toBe(false);
    expect(pool.idle()).toBe(replacement);
    expect(h.onIdle).toHaveBeenCalled();
    await pool.close();
    expect(replacement.closed).toBe(true);
  });

  it('closes a replacement that is only ready after close()', async () => {
    const [a, b] = [new FakeWorker(), new FakeWorker()];
    const { start, calls } = controlledStart();
    const h = hooks();
    const pool = new WorkerPool([a, b], { start, ...h });
    a.crash();
    pool.stopRestarting();
    await pool.close();
    expect(b.closed).toBe(true);
    h.onIdle.mockClear();
    const replacement = new FakeWorker();
    calls[0]!.resolve(replacement);
    await flush();
    expect(replacement.closed).toBe(true);
    expect(h.onIdle).not.toHaveBeenCalled();
  });

  it('close() closes every worker', async () => {
    const workers = [new FakeWorker(), new FakeWorker(), new FakeWorker()];
    const pool = new WorkerPool(workers, { start: vi.fn(), ...hooks() });
    await pool.close();
    expect(workers.map((w) => w.closed)).toEqual([true, true, true]);
  });
});
