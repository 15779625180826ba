// @ts-check
/**
 * One ONNX Runtime session in a worker thread. onnxruntime-node's `run()` holds the calling
 * thread for the whole inference, so sessions never run on the main thread; the main thread
 * batches requests (batcher.ts) and posts each batch here (SessionWorker, session-worker-client.ts).
 *
 * Plain JavaScript (type-checked through JSDoc) so the same file runs from source in tests and
 * from dist/ in production, without a TypeScript loader inside the worker.
 *
 * Protocol: -> { type: 'ready', provider, dims } | { type: 'init-error', message }
 *           <- { type: 'run', id, n, data: Float32Array }  -> { type: 'result', id, data } | { type: 'error', id, message }
 *           <- { type: 'close' }: release the session after any run in progress, then exit
 */
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

/**
 * @typedef {object} WorkerConfig
 * @property {SharedArrayBuffer} model ONNX bytes, shared by all workers (not copied per worker)
 * @property {string} key model key, for messages
 * @property {string} inputName
 * @property {string} outputName
 * @property {number[]} shape input [C, H, W]
 * @property {boolean} normalize L2-normalise each output row
 * @property {'cpu' | 'cuda'} device
 * @property {number} threads intra-op threads
 * @property {number} cudaDeviceId
 */

const config = /** @type {WorkerConfig} */ (workerData);
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

/** @returns {Promise<import('onnxruntime-node').InferenceSession>} */
async function createSession() {
  // A plain copy: the native binding reads ArrayBuffer-backed arrays.
  const bytes = new Uint8Array(config.model.byteLength);
  bytes.set(new Uint8Array(config.model));
  /** @type {import('onnxruntime-node').InferenceSession.SessionOptions} */
  const options = {
    intraOpNumThreads: config.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // Errors reach the caller as exceptions; ORT's own log lines would only duplicate them.
    // 3 logs errors only; on CUDA 4, fatal only.
    logSeverityLevel: config.device === 'cuda' ? 4 : 3,
    executionProviders:
      config.device === 'cuda' ? [{ name: 'cuda', deviceId: config.cudaDeviceId }] : ['cpu'],
  };
  return ort.InferenceSession.create(bytes, options);
}

/**
 * @param {import('onnxruntime-node').InferenceSession} session
 * @param {Float32Array} data
 * @param {number} n
 */
async function run(session, data, n) {
  const input = new ort.Tensor('float32', data, [n, ...config.shape]);
  const results = await session.run({ [config.inputName]: input });
  const output = results[config.outputName];
  if (!output) throw new Error(`output "${config.outputName}" missing`);
  const dims = output.dims[1] ?? 0;
  if (output.dims.length !== 2 || output.dims[0] !== n) {
    throw new Error(
      `output "${config.outputName}" has shape [${output.dims.join(', ')}], expected [${n}, dims]`,
    );
  }
  const out = Float32Array.from(/** @type {Float32Array} */ (output.data));
  if (config.normalize) {
    for (let i = 0; i < n; i++) {
      let ss = 0;
      const row = out.subarray(i * dims, (i + 1) * dims);
      for (const v of row) ss += v * v;
      // An all-zero vector stays zero rather than becoming NaN.
      const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
      for (let j = 0; j < dims; j++) row[j] = /** @type {number} */ (row[j]) * inv;
    }
  }
  input.dispose();
  output.dispose();
  return { out, dims };
}

async function main() {
  /** @type {import('onnxruntime-node').InferenceSession} */
  let session;
  let dims;
  try {
    session = await createSession();
    if (!session.inputNames.includes(config.inputName)) {
      throw new Error(
        `the ONNX graph has no input "${config.inputName}" (it has: ${session.inputNames.join(', ')})`,
      );
    }
    if (!session.outputNames.includes(config.outputName)) {
      throw new Error(
        `the ONNX graph has no output "${config.outputName}" (it has: ${session.outputNames.join(', ')})`,
      );
    }
    // A warm-up batch: proves the graph accepts the manifest's input shape and tells the main
    // thread how many dims come out (checked against the manifest there).
    const size = config.shape.reduce((a, b) => a * b, 1);
    dims = (await run(session, new Float32Array(size), 1)).dims;
  } catch (error) {
    port.postMessage({
      type: 'init-error',
      message: error instanceof Error ? error.message : String(error),
    });
    return;
  }
  port.postMessage({ type: 'ready', provider: config.device, dims });
  /** @param {{ id: number, n: number, data: Float32Array }} msg */
  const answer = async (msg) => {
    try {
      const { out } = await run(session, msg.data, msg.n);
      port.postMessage({ type: 'result', id: msg.id, data: out }, [out.buffer]);
    } catch (error) {
      port.postMessage({
        type: 'error',
        id: msg.id,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  };
  /** The run in progress, so that close releases the session only after it. */
  let current = Promise.resolve();
  let closing = false;
  port.on(
    'message',
    async (/** @type {{ type: string, id: number, n: number, data: Float32Array }} */ msg) => {
      if (closing) return;
      if (msg.type === 'close') {
        closing = true;
        await current;
        await session.release();
        // Nothing else keeps the thread alive: it exits with code 0.
        port.close();
      } else if (msg.type === 'run') {
        current = answer(msg);
        await current;
      }
    },
  );
}

void main();
