// @ts-check
/* global process */
/**
 * One ONNX Runtime session in a worker thread. onnxruntime-node's `run()` holds the calling
 * thread for the whole inference, so sessions never run on the main thread; the main thread
 * batches requests (batcher.ts) and posts each batch here (SessionWorker, session-worker-client.ts).
 *
 * Plain JavaScript (type-checked through JSDoc) so the same file runs from source in tests and
 * from dist/ in production, without a TypeScript loader inside the worker.
 *
 * Protocol: -> { type: 'ready', provider, shapes } | { type: 'init-error', message }
 *           <- { type: 'run', id, n, data: Float32Array }  -> { type: 'result', id, data } | { type: 'error', id, message }
 *           <- { type: 'close' }: release the session after any run in progress, then exit
 *           <- { type: 'abort' }: end the thread with exit code 70 after any run in progress,
 *              without releasing anything: what a native crash looks like to the main thread
 *              (tests use it; terminate() during a run can abort the whole process inside
 *              onnxruntime-node's native code)
 *
 * A session returns one or more named outputs (`outputNames`: an embedder's vector; a
 * detector's heatmap, sizes and offsets). `shapes` are their shapes per image, without the
 * batch axis, as the warm-up run found them; every later run must give the same. `data` of a
 * result holds, image after image, that image's slice of each output in `outputNames` order,
 * so that the main thread's batcher can hand every request one contiguous slice.
 */
import { parentPort, workerData } from 'node:worker_threads';
import ort from 'onnxruntime-node';

/**
 * @typedef {object} WorkerConfig
 * @property {SharedArrayBuffer} model ONNX bytes, shared by all workers (not copied per worker)
 * @property {string} key model key, for messages
 * @property {string} inputName
 * @property {string[]} outputNames the outputs returned, in this order
 * @property {number[]} shape input [C, H, W]
 * @property {boolean} normalize L2-normalise each image's slice of each output (embedders)
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
 * One session run of `n` images. Returns every output's per-image shape and the packed result
 * (see the protocol above). With `expected` (the warm-up's shapes) a run whose shapes differ is
 * an error rather than slices of the wrong floats.
 *
 * @param {import('onnxruntime-node').InferenceSession} session
 * @param {Float32Array} data
 * @param {number} n
 * @param {number[][] | null} expected
 */
async function run(session, data, n, expected) {
  const input = new ort.Tensor('float32', data, [n, ...config.shape]);
  const results = await session.run({ [config.inputName]: input });
  try {
    /** @type {Float32Array[]} */
    const outputs = [];
    /** @type {number[][]} */
    const shapes = [];
    config.outputNames.forEach((name, k) => {
      const output = results[name];
      if (!output) throw new Error(`output "${name}" missing`);
      const shape = output.dims.slice(1);
      const want = expected?.[k];
      if (
        output.dims[0] !== n ||
        shape.length === 0 ||
        (want && (want.length !== shape.length || want.some((d, i) => d !== shape[i])))
      ) {
        const rest = want ? want.join(', ') : '...';
        throw new Error(
          `output "${name}" has shape [${output.dims.join(', ')}], expected [${n}, ${rest}]`,
        );
      }
      outputs.push(/** @type {Float32Array} */ (output.data));
      shapes.push(shape);
    });
    const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
    const row = sizes.reduce((a, b) => a + b, 0);
    /** @type {Float32Array<ArrayBuffer>} */
    let out;
    const only = outputs[0];
    if (outputs.length === 1 && only) out = Float32Array.from(only);
    else {
      out = new Float32Array(n * row);
      for (let i = 0; i < n; i++) {
        let at = i * row;
        outputs.forEach((o, k) => {
          const size = /** @type {number} */ (sizes[k]);
          out.set(o.subarray(i * size, (i + 1) * size), at);
          at += size;
        });
      }
    }
    if (config.normalize) {
      for (let i = 0; i < n; i++) {
        let at = i * row;
        for (const size of sizes) {
          let ss = 0;
          const slice = out.subarray(at, at + size);
          for (const v of slice) ss += v * v;
          // An all-zero vector stays zero rather than becoming NaN.
          const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
          for (let j = 0; j < size; j++) slice[j] = /** @type {number} */ (slice[j]) * inv;
          at += size;
        }
      }
    }
    return { out, shapes };
  } finally {
    input.dispose();
    for (const output of Object.values(results)) output.dispose();
  }
}

async function main() {
  /** @type {import('onnxruntime-node').InferenceSession} */
  let session;
  /** @type {number[][]} */
  let shapes;
  try {
    session = await createSession();
    if (!session.inputNames.includes(config.inputName)) {
      throw new Error(
        `the ONNX graph has no input "${config.inputName}" (it has: ${session.inputNames.join(', ')})`,
      );
    }
    for (const name of config.outputNames) {
      if (!session.outputNames.includes(name)) {
        throw new Error(
          `the ONNX graph has no output "${name}" (it has: ${session.outputNames.join(', ')})`,
        );
      }
    }
    // A warm-up batch: proves the graph accepts the manifest's input shape and tells the main
    // thread the shapes that come out (checked against the manifest there).
    const size = config.shape.reduce((a, b) => a * b, 1);
    shapes = (await run(session, new Float32Array(size), 1, null)).shapes;
  } catch (error) {
    port.postMessage({
      type: 'init-error',
      message: error instanceof Error ? error.message : String(error),
    });
    return;
  }
  port.postMessage({ type: 'ready', provider: config.device, shapes });
  /** @param {{ id: number, n: number, data: Float32Array }} msg */
  const answer = async (msg) => {
    try {
      const { out } = await run(session, msg.data, msg.n, shapes);
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
      } else if (msg.type === 'abort') {
        closing = true;
        await current;
        process.exit(70);
      } else if (msg.type === 'run') {
        current = answer(msg);
        await current;
      }
    },
  );
}

void main();
