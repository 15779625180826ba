import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DeviceUnavailableError, ModelError } from './errors.js';

export type Device = 'auto' | 'cpu' | 'cuda';

/** The ONNX Runtime execution provider a session runs on. */
export type ExecutionProvider = 'cpu' | 'cuda';

/**
 * Why CUDA cannot work, when that is knowable without trying: on Linux onnxruntime-node loads
 * its CUDA provider from a library that only ONNXRUNTIME_NODE_INSTALL=cuda12 installs. Trying
 * anyway makes ONNX Runtime print a native error to stderr before failing.
 *
 * `from` is where onnxruntime-node is resolved from: this module, unless a test points it at
 * another installation.
 */
export function missingCudaProvider(from: string | URL = import.meta.url): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const bin = path.join(
      path.dirname(createRequire(from).resolve('onnxruntime-node')),
      '..',
      'bin',
    );
    for (const napi of readdirSync(bin)) {
      const dir = path.join(bin, napi, 'linux', process.arch);
      if (existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'))) return null;
    }
    return 'onnxruntime-node was installed without its CUDA provider (libonnxruntime_providers_cuda.so)';
  } catch {
    return null;
  }
}

export interface StartOnDeviceOptions {
  /** The model key, for messages. */
  key: string;
  /** Where the CPU-fallback warning goes. */
  logger: { warn(message: string): void };
  /** Why CUDA cannot work, if that is knowable without trying (default: missingCudaProvider). */
  missingProvider?: () => string | null;
}

/**
 * Start the first session on the device asked for: `cpu` starts it on CPU; `auto` tries CUDA
 * and falls back to CPU with one warning; `cuda` fails with DeviceUnavailableError when CUDA
 * cannot be used. A ModelError from the CUDA attempt is the model's fault, not the device's:
 * it is thrown as is, not retried on CPU. Resolves with the provider in use (the rest of the
 * pool starts on it) and what `start` resolved with.
 */
export async function startOnDevice<T>(
  device: Device,
  start: (provider: ExecutionProvider) => Promise<T>,
  { key, logger, missingProvider = missingCudaProvider }: StartOnDeviceOptions,
): Promise<{ provider: ExecutionProvider; started: T }> {
  if (device !== 'cpu') {
    try {
      const missing = missingProvider();
      if (missing) throw new Error(missing);
      return { provider: 'cuda', started: await start('cuda') };
    } catch (err) {
      if (err instanceof ModelError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      if (device === 'cuda') {
        throw new DeviceUnavailableError(
          `model ${key}: the CUDA execution provider is not available (${reason}). Install onnxruntime-node's CUDA 12 binaries (ONNXRUNTIME_NODE_INSTALL=cuda12 npm install) on a machine with an NVIDIA driver, CUDA 12 and cuDNN 9, or use device 'cpu'.`,
          { cause: err },
        );
      }
      logger.warn(
        `@lookalike/inference: model ${key}: CUDA unavailable (${reason}); running on CPU.`,
      );
    }
  }
  return { provider: 'cpu', started: await start('cpu') };
}
