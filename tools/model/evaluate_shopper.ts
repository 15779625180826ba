/**
 * Score the shopper-photo evaluation set (make_shopper_eval.py) through the real API: a server on
 * embedded PGlite with the given models and detector, the catalog uploaded over HTTP
 * (uploadProductImage), every query a multipart GraphQL request, exactly as a merchant's client
 * would send it.
 *
 *   npx tsx --conditions=@lookalike/source tools/model/evaluate_shopper.ts \
 *     [--split test|validation] [--models fashion-resnet,colour-thumbnail] [--detector product-detector|none] \
 *     [--write models/<id>/metrics.json] [--label "what was measured"]
 *
 * Prints and (with --write) records under `shopperPhotos` in that metrics.json:
 * - cluttered photo -> 3-colour catalog: exact-SKU Recall@1 / @10, category precision@10;
 * - matchImages at the merchant's (= the model's default) match threshold on (photo, same SKU) /
 *   (photo, other colour) / (photo, other design of the category) pairs: precision, recall, F1,
 *   the share of other-colour pairs called MATCH, and the best threshold on these pairs (for the
 *   record only: defaults are chosen on the validation split);
 * - two-product photos: both products found (each in the top 5 of one of `objects`);
 * - similarProducts latency at concurrency 1 (p50, p95) over the single-product photos.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer } from '@lookalike/api';
import { GraphQLClient } from '@lookalike/sdk';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? (argv[at + 1] ?? fallback) : fallback;
};
const split = opt('split', 'test');
const models = opt('models', 'fashion-resnet,colour-thumbnail').split(',');
const detector = opt('detector', 'product-detector');
const write = opt('write', '');
const label = opt('label', '');
const DIR = path.join(ROOT, '.data', 'shopper-eval', split);

interface Sku {
  sku: string;
  design: number;
  label: number;
  class: string;
  colour: string;
  catalog: string;
}
interface Index {
  skus: Sku[];
  photos: { file: string; sku: string }[];
  pairs: { photo: string; sku: string; kind: 'same' | 'otherColour' | 'otherDesign' }[];
  multi: { file: string; skus: string[]; boxes: (number[] | null)[] }[];
}
const index = JSON.parse(await readFile(path.join(DIR, 'index.json'), 'utf8')) as Index;
const bySku = new Map(index.skus.map((s) => [s.sku, s]));

const dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-shopper-eval-'));
const server = await createServer({
  config: {
    NODE_ENV: 'production',
    dataDir,
    RATE_LIMIT_PER_MINUTE: 0,
    INFERENCE_DEVICE: 'cpu',
    DEMO_CATALOG: false,
    MODELS: models,
    DETECTOR: detector === 'none' ? null : detector,
  } as never,
  logger: { info: () => undefined, error: (m, e) => console.error(m, e) },
});

type Hit = { score: number; product: { externalId: string; category: string | null } };
const read = (f: string) => readFile(path.join(DIR, f));
const jpeg = (bytes: Buffer) => ({ bytes, type: 'image/jpeg', name: 'photo.jpg' });

try {
  const url = await server.listen(0, '127.0.0.1');
  const api = new GraphQLClient(url, server.bootstrap.generatedKey as string);
  const ok = <T>(res: { data?: T | null; errors?: unknown }): T => {
    if (res.errors || !res.data) throw new Error(JSON.stringify(res.errors));
    return res.data;
  };

  // 1. The catalog: one product per SKU, its catalog image, over HTTP (4 at a time).
  let t0 = performance.now();
  let cursor = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (cursor < index.skus.length) {
        const s = index.skus[cursor++] as Sku;
        ok(
          await api.upload(
            `mutation($image: Upload!, $externalId: String!, $title: String, $category: String) {
              uploadProductImage(image: $image, externalId: $externalId, mode: CREATE, title: $title, category: $category) { image { id } } }`,
            { externalId: s.sku, title: `${s.colour} ${s.class} #${s.design}`, category: s.class },
            { image: jpeg(await read(s.catalog)) },
          ),
        );
      }
    }),
  );
  const ingestSeconds = (performance.now() - t0) / 1000;
  console.log(`${split}: ${index.skus.length} SKUs uploaded in ${ingestSeconds.toFixed(1)} s`);

  // 2. Cluttered single-product photos -> the catalog.
  const SEARCH = `query($image: Upload!) { similarProducts(image: $image, first: 10) { model hits { score product { externalId category } } } }`;
  const latencies: number[] = [];
  let r1 = 0;
  let r10 = 0;
  let p10 = 0;
  let model = '';
  for (const p of index.photos) {
    const bytes = await read(p.file);
    t0 = performance.now();
    const data = ok(
      await api.upload<{ similarProducts: { model: string; hits: Hit[] } }>(
        SEARCH,
        {},
        { image: jpeg(bytes) },
      ),
    );
    latencies.push(performance.now() - t0);
    const hits = data.similarProducts.hits;
    model = data.similarProducts.model;
    const want = bySku.get(p.sku) as Sku;
    if (hits[0]?.product.externalId === p.sku) r1++;
    if (hits.some((h) => h.product.externalId === p.sku)) r10++;
    p10 += hits.filter((h) => h.product.category === want.class).length / 10;
  }
  const n = index.photos.length;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const photoToCatalog = {
    'skuRecall@1': round(r1 / n),
    'skuRecall@10': round(r10 / n),
    'categoryPrecision@10': round(p10 / n),
    queries: n,
    p50Ms: round(at(0.5), 1),
    p95Ms: round(at(0.95), 1),
  };
  console.log('photo -> catalog', photoToCatalog);

  // 3. matchImages on the pairs, at the merchant's match threshold (the model's default).
  const MATCH = `query($a: Upload!, $b: Upload!) { matchImages(a: $a, b: $b) { score isMatch threshold } }`;
  const scored: { kind: string; score: number; isMatch: boolean }[] = [];
  let threshold = NaN;
  for (const pair of index.pairs) {
    const data = ok(
      await api.upload<{ matchImages: { score: number; isMatch: boolean; threshold: number } }>(
        MATCH,
        {},
        {
          a: jpeg(await read(pair.photo)),
          b: jpeg(await read((bySku.get(pair.sku) as Sku).catalog)),
        },
      ),
    );
    threshold = data.matchImages.threshold;
    scored.push({
      kind: pair.kind,
      score: data.matchImages.score,
      isMatch: data.matchImages.isMatch,
    });
  }
  const f1At = (decide: (s: (typeof scored)[number]) => boolean) => {
    const tp = scored.filter((s) => s.kind === 'same' && decide(s)).length;
    const fp = scored.filter((s) => s.kind !== 'same' && decide(s)).length;
    const fn = scored.filter((s) => s.kind === 'same' && !decide(s)).length;
    const precision = tp / Math.max(tp + fp, 1);
    const recall = tp / Math.max(tp + fn, 1);
    return { precision, recall, f1: (2 * precision * recall) / Math.max(precision + recall, 1e-9) };
  };
  const atDefault = f1At((s) => s.isMatch);
  const share = (kind: string) => {
    const of = scored.filter((s) => s.kind === kind);
    return of.filter((s) => s.isMatch).length / Math.max(of.length, 1);
  };
  let best = { threshold: NaN, f1: -1 };
  for (const s of scored) {
    const f = f1At((x) => x.score >= s.score).f1;
    if (f > best.f1) best = { threshold: s.score, f1: f };
  }
  const matchPairs = {
    threshold: round(threshold),
    precision: round(atDefault.precision),
    recall: round(atDefault.recall),
    f1: round(atDefault.f1),
    otherColourCalledMatch: round(share('otherColour')),
    otherDesignCalledMatch: round(share('otherDesign')),
    pairs: scored.length,
    bestOnThesePairs: { threshold: round(best.threshold), f1: round(best.f1) },
  };
  console.log('matchImages', matchPairs);

  // 4. Two products in one photo: each in the top 5 of one of the detected objects.
  let both = 0;
  let placed = 0;
  let eitherMain = 0;
  if (detector !== 'none') {
    const OBJECTS = `query($image: Upload!) { similarProducts(image: $image, first: 5) { hits { product { externalId } } objects { score category hits { product { externalId } } } } }`;
    for (const m of index.multi) {
      if (m.boxes.some((b) => b === null)) continue; // a product the renderer could not place
      placed++;
      const data = ok(
        await api.upload<{
          similarProducts: {
            hits: { product: { externalId: string } }[];
            objects: { hits: { product: { externalId: string } }[] }[];
          };
        }>(OBJECTS, {}, { image: jpeg(await read(m.file)) }),
      );
      const found = (sku: string) =>
        data.similarProducts.objects.some((o) => o.hits.some((h) => h.product.externalId === sku));
      if (m.skus.every(found)) both++;
      if (m.skus.some((s) => data.similarProducts.hits.some((h) => h.product.externalId === s)))
        eitherMain++;
    }
  }
  const twoProducts =
    detector === 'none'
      ? null
      : {
          bothFound: round(both / Math.max(placed, 1)),
          mainSearchFindsOne: round(eitherMain / Math.max(placed, 1)),
          photos: placed,
        };
  console.log('two-product photos', twoProducts);

  const result = {
    split,
    model,
    models,
    detector,
    ...(label ? { label } : {}),
    photoToCatalog,
    matchPairs,
    twoProducts,
    catalog: {
      skus: index.skus.length,
      designs: index.skus.length / 3,
      uploadSeconds: round(ingestSeconds, 1),
    },
    protocol:
      'make_shopper_eval.py set, through the real API (embedded PGlite, HTTP multipart GraphQL, concurrency 1). ' +
      'Catalog: every design in 3 colours = 3 SKUs. Photos: the product fills 1/3-2/3 of the frame on a textured ' +
      'surface beside 1-2 other objects, white-balance cast, exposure, shadow, noise, JPEG q60-85.',
    date: new Date().toISOString().slice(0, 10),
  };
  if (write) {
    const file = path.resolve(ROOT, write);
    const metrics = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    const section = (metrics.shopperPhotos ?? {}) as Record<string, unknown>;
    section[split] = result;
    metrics.shopperPhotos = section;
    await writeFile(file, `${JSON.stringify(metrics, null, 2)}\n`);
    console.log(`recorded in ${write}`);
  }
  await writeFile(
    path.join(DIR, `result-${model}-${detector}.json`),
    `${JSON.stringify(result, null, 1)}\n`,
  );
} finally {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
