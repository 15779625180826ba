import { describe, expect, it } from 'vitest';
import { Admission } from './admission.js';
import { BusyError, EmbedderClosedError, InferenceError } from './errors.js';

const KEY = 'test-model-v1';

function setup(maxQueue = 3) {
  const state = { queued: 0, noWorker: false };
  const admission = new Admission({
    key: KEY,
    maxQueue,
    queued: () => state.queued,
    noWorker: () => state.noWorker,
  });
  return { admission, state };
}

const expectNoWorker = (err: unknown) => {
  expect(err).toBeInstanceOf(InferenceError);
  expect(err).toMatchObject({ code: 'WORKER_FAILED' });
  expect((err as Error).message).toContain(KEY);
};

/** Whether `p` has settled by now (after pending callbacks). */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true));
  await new Promise<void>((resolve) => setImmediate(resolve));
  return settled;
}

describe('Admission', () => {
  it('admits up to maxQueue waiting requests, then answers BusyError', () => {
    const { admission } = setup(3);
    expect([admission.admit(), admission.admit(), admission.admit()]).toEqual([null, null, null]);
    expect(admission.waiting).toBe(3);
    const busy = admission.admit();
    expect(busy).toBeInstanceOf(BusyError);
    expect(busy?.message).toContain(KEY);
    expect(busy?.message).toContain('3 requests are waiting (maxQueue 3)');
    // A refused request is not counted.
    expect(admission.waiting).toBe(3);
  });

  it('counts queued requests as waiting', () => {
    const { admission, state } = setup(3);
    state.queued = 2;
    expect(admission.admit()).toBeNull();
    expect(admission.waiting).toBe(3);
    expect(admission.admit()).toBeInstanceOf(BusyError);
    state.queued = 1; // one batch went to a worker
    expect(admission.admit()).toBeNull();
  });

  it('makes room again when a request is handed to the queue or fails first', () => {
    const { admission } = setup(2);
    admission.admit();
    admission.admit();
    expect(admission.admit()).toBeInstanceOf(BusyError);
    expect(admission.handOff()).toBeNull();
    expect(admission.waiting).toBe(1);
    expect(admission.admit()).toBeNull();
    admission.drop();
    expect(admission.waiting).toBe(1);
    expect(admission.admit()).toBeNull();
  });

  it('refuses every request once closed, naming the model', () => {
    const { admission } = setup();
    admission.close(true);
    const err = admission.admit();
    expect(err).toBeInstanceOf(EmbedderClosedError);
    expect(err?.message).toContain(KEY);
    expect(admission.waiting).toBe(0);
  });

  it('refuses requests with WORKER_FAILED when no worker is left', () => {
    const { admission, state } = setup();
    state.noWorker = true;
    expectNoWorker(admission.admit());
    expect(admission.waiting).toBe(0);
  });

  it('answers closed rather than no worker when both hold', () => {
    const { admission, state } = setup();
    state.noWorker = true;
    admission.close(true);
    expect(admission.admit()).toBeInstanceOf(EmbedderClosedError);
  });

  it('lets decoded requests reach the queue while draining', () => {
    const { admission } = setup();
    admission.admit();
    admission.close(true);
    expect(admission.handOff()).toBeNull();
  });

  it('refuses decoded requests after close without drain', () => {
    const { admission } = setup();
    admission.admit();
    admission.close(false);
    const err = admission.handOff();
    expect(err).toBeInstanceOf(EmbedderClosedError);
    expect(err?.message).toContain(KEY);
    expect(admission.waiting).toBe(0);
  });

  it('refuses a decoded request whose last worker died meanwhile', () => {
    const { admission, state } = setup();
    admission.admit();
    state.noWorker = true;
    expectNoWorker(admission.handOff());
    expect(admission.waiting).toBe(0);
  });

  it('drained() resolves once no admitted request is being decoded', async () => {
    const { admission } = setup();
    expect(await isSettled(admission.drained())).toBe(true);
    admission.admit();
    admission.admit();
    const drained = admission.drained();
    admission.handOff();
    expect(await isSettled(drained)).toBe(false);
    admission.drop();
    expect(await isSettled(drained)).toBe(true);
  });
});
