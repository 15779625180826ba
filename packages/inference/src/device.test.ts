import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { missingCudaProvider, startOnDevice, type ExecutionProvider } from './device.js';
import { DeviceUnavailableError, ModelError } from './errors.js';

const KEY = 'test-model-v1';

/** A start() that records the providers asked for and fails on those listed. */
function starter(failOn: Partial<Record<ExecutionProvider, Error>> = {}) {
  return vi.fn((provider: ExecutionProvider) => {
    const err = failOn[provider];
    return err ? Promise.reject(err) : Promise.resolve(`session on ${provider}`);
  });
}

function logger() {
  return { warn: vi.fn<(message: string) => void>() };
}

describe('startOnDevice', () => {
  it("starts on CPU for device 'cpu' without trying CUDA", async () => {
    const start = starter();
    const log = logger();
    const missingProvider = vi.fn(() => null);
    const r = await startOnDevice('cpu', start, { key: KEY, logger: log, missingProvider });
    expect(r).toEqual({ provider: 'cpu', started: 'session on cpu' });
    expect(start.mock.calls).toEqual([['cpu']]);
    expect(missingProvider).not.toHaveBeenCalled();
    expect(log.warn).not.toHaveBeenCalled();
  });

  it.each(['auto', 'cuda'] as const)(
    "uses CUDA when it starts, for device '%s'",
    async (device) => {
      const start = starter();
      const log = logger();
      const r = await startOnDevice(device, start, {
        key: KEY,
        logger: log,
        missingProvider: () => null,
      });
      expect(r).toEqual({ provider: 'cuda', started: 'session on cuda' });
      expect(start.mock.calls).toEqual([['cuda']]);
      expect(log.warn).not.toHaveBeenCalled();
    },
  );

  it("falls back to CPU with one warning for device 'auto'", async () => {
    const start = starter({ cuda: new Error('libcudnn.so.9: cannot open shared object file') });
    const log = logger();
    const r = await startOnDevice('auto', start, {
      key: KEY,
      logger: log,
      missingProvider: () => null,
    });
    expect(r).toEqual({ provider: 'cpu', started: 'session on cpu' });
    expect(start.mock.calls).toEqual([['cuda'], ['cpu']]);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0]![0]).toMatch(/test-model-v1.*CUDA unavailable.*libcudnn.*CPU/);
  });

  it('does not try CUDA when its provider library is known to be missing', async () => {
    const start = starter();
    const log = logger();
    const r = await startOnDevice('auto', start, {
      key: KEY,
      logger: log,
      missingProvider: () => 'no CUDA provider here',
    });
    expect(r.provider).toBe('cpu');
    expect(start.mock.calls).toEqual([['cpu']]);
    expect(log.warn.mock.calls[0]![0]).toContain('no CUDA provider here');
  });

  it("fails with DeviceUnavailableError for device 'cuda', without falling back", async () => {
    const cause = new Error('CUDA driver version is insufficient');
    const start = starter({ cuda: cause });
    const log = logger();
    const err: unknown = await startOnDevice('cuda', start, {
      key: KEY,
      logger: log,
      missingProvider: () => null,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceUnavailableError);
    expect((err as Error).message).toMatch(
      /test-model-v1.*CUDA.*driver version is insufficient.*ONNXRUNTIME_NODE_INSTALL=cuda12/,
    );
    expect((err as Error).cause).toBe(cause);
    expect(start.mock.calls).toEqual([['cuda']]);
    expect(log.warn).not.toHaveBeenCalled();
  });

  it('throws a ModelError from the CUDA attempt as is: the model, not the device, is wrong', async () => {
    const bad = new ModelError(
      `model ${KEY}: output "embedding" has 128 dims, the manifest says 64`,
    );
    const log = logger();
    for (const device of ['auto', 'cuda'] as const) {
      const start = starter({ cuda: bad });
      await expect(
        startOnDevice(device, start, { key: KEY, logger: log, missingProvider: () => null }),
      ).rejects.toBe(bad);
      expect(start.mock.calls).toEqual([['cuda']]);
    }
    expect(log.warn).not.toHaveBeenCalled();
  });

  it('lets a failure on CPU through', async () => {
    const broken = new Error('cannot create session');
    const start = starter({ cpu: broken, cuda: new Error('no GPU') });
    await expect(
      startOnDevice('auto', start, { key: KEY, logger: logger(), missingProvider: () => null }),
    ).rejects.toBe(broken);
  });
});

describe.skipIf(process.platform !== 'linux')('missingCudaProvider', () => {
  // A fake onnxruntime-node installation: dist/index.js (what resolve() finds) and bin/.
  let root: string;
  let from: URL;
  const bin = () => path.join(root, 'node_modules', 'onnxruntime-node', 'bin');

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'lookalike-ort-'));
    const pkg = path.join(root, 'node_modules', 'onnxruntime-node');
    await mkdir(path.join(pkg, 'dist'), { recursive: true });
    await writeFile(
      path.join(pkg, 'package.json'),
      JSON.stringify({ name: 'onnxruntime-node', main: 'dist/index.js' }),
    );
    await writeFile(path.join(pkg, 'dist', 'index.js'), '');
    await mkdir(path.join(bin(), 'napi-v6', 'linux', process.arch), { recursive: true });
    from = pathToFileURL(path.join(root, 'index.js'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('names the missing library when no build has the CUDA provider', () => {
    expect(missingCudaProvider(from)).toMatch(/libonnxruntime_providers_cuda\.so/);
  });

  it('answers null when a build has it', async () => {
    const lib = path.join(
      bin(),
      'napi-v6',
      'linux',
      process.arch,
      'libonnxruntime_providers_cuda.so',
    );
    await writeFile(lib, '');
    try {
      expect(missingCudaProvider(from)).toBeNull();
    } finally {
      await rm(lib);
    }
  });

  it('answers null when onnxruntime-node cannot be found: trying CUDA will tell', () => {
    expect(
      missingCudaProvider(pathToFileURL(path.join(tmpdir(), 'nowhere', 'index.js'))),
    ).toBeNull();
  });
});
