/**
 * Embed the real-world evaluation set (make_realworld.py) with the real @lookalike/inference
 * package: sharp decoding, EXIF orientation, preprocess.ts, ONNX Runtime in worker threads.
 * Writes .data/realworld/embeddings-<variant>.f32 (row-major, index.json order: catalog rows,
 * then photo rows) for evaluate_realworld.py.
 *
 *   npx tsx --conditions=@lookalike/source tools/model/embed_realworld.ts [--model fashion-resnet] [--no-trim]
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createEmbedder } from '@lookalike/inference';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DIR = path.join(ROOT, '.data', 'realworld');

const args = process.argv.slice(2);
const at = args.indexOf('--model');
const model = (at >= 0 ? args[at + 1] : undefined) ?? 'fashion-resnet';
const trim = !args.includes('--no-trim');
const variant = trim ? 'trim' : 'no-trim';

const index = JSON.parse(await readFile(path.join(DIR, 'index.json'), 'utf8')) as {
  items: { catalog: string; photo: string }[];
};
const files = [...index.items.map((i) => i.catalog), ...index.items.map((i) => i.photo)];
const embedder = await createEmbedder({ model, device: 'cpu' });
const started = performance.now();
const results = await embedder.embedBatch(
  await Promise.all(
    files.map(async (f) => ({ bytes: await readFile(path.join(DIR, f)), options: { trim } })),
  ),
);
const seconds = (performance.now() - started) / 1000;
const dims = embedder.info.dims;
const out = new Float32Array(files.length * dims);
results.forEach((r, i) => {
  if (!r.ok) throw new Error(`${files[i]}: ${r.error.message}`);
  out.set(r.vector, i * dims);
});
await writeFile(path.join(DIR, `embeddings-${variant}.f32`), out);
await writeFile(
  path.join(DIR, `embeddings-${variant}.json`),
  JSON.stringify(
    {
      model: embedder.info.key,
      dims,
      rows: files.length,
      trim,
      seconds,
      imagesPerSecond: files.length / seconds,
    },
    null,
    1,
  ),
);
console.log(
  `${embedder.info.key}: embedded ${files.length} files (trim ${trim}) in ${seconds.toFixed(1)} s`,
);
await embedder.close();
