/**
 * Choose fashion-resnet v2's colour weight and its default thresholds on the VALIDATION shopper
 * set (make_shopper_eval.py --split validation; never the test split), from one embedding pass
 * of the diagnostic model (build_fashion_resnet_v2.py --diagnostic), whose output is the v1
 * shape part (128, unit) and the colour part (40, unit) side by side: for weight w the v2 cosine
 * is (1 - w) * shape cosine + w * colour cosine, so every w is scored without re-embedding.
 *
 * Photos are cropped as the API crops them (the core's growBox): the main detected product's
 * box grown by DETECTION_MARGIN per side (`--boxes detector`, the default) or the renderer's
 * true box grown the same way (`--boxes truth`, to study the descriptor without detection
 * errors).
 *
 *   npx tsx --conditions=@lookalike/source tools/model/choose_colour_weight.ts [--boxes detector|truth]
 *
 * Rule, fixed before looking: the weight with the highest exact-SKU Recall@1 among those whose
 * category precision@10 is within 0.01 of w = 0's (colour must not cost category retrieval).
 * Writes .data/shopper-eval/validation/colour-weight.json (the table, the choice and the
 * F1-optimal thresholds at the chosen weight) for build_fashion_resnet_v2.py --defaults.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DETECTION_MARGIN, growBox } from '@lookalike/core';
import { createDetector, createEmbedder, inspectImage, type Region } from '@lookalike/inference';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DIR = path.join(ROOT, '.data', 'shopper-eval', 'validation');
const argv = process.argv.slice(2);
const boxesFrom = argv.includes('--boxes') ? argv[argv.indexOf('--boxes') + 1] : 'detector';
const SHAPE = 128;

interface Index {
  skus: { sku: string; design: number; label: number; colour: string; catalog: string }[];
  photos: { file: string; sku: string; box: number[] | null }[];
  pairs: { photo: string; sku: string; kind: string }[];
}
const index = JSON.parse(await readFile(path.join(DIR, 'index.json'), 'utf8')) as Index;
const embedder = await createEmbedder({
  model: path.join(ROOT, '.data', 'v2-diagnostic', 'model.json'),
  device: 'cpu',
});
const detector =
  boxesFrom === 'detector'
    ? await createDetector({ model: 'product-detector', device: 'cpu' })
    : null;

const dims = embedder.info.dims;
const split = (v: Float32Array) => [v.slice(0, SHAPE), v.slice(SHAPE, dims)] as const;
const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

const catalog = await embedder.embedBatch(
  await Promise.all(
    index.skus.map(async (s) => ({ bytes: await readFile(path.join(DIR, s.catalog)) })),
  ),
);
const cat = catalog.map((r, i) => {
  if (!r.ok) throw new Error(`${index.skus[i]?.catalog}: ${r.error.message}`);
  return split(r.vector);
});
let detected = 0;
const photos = [];
for (const p of index.photos) {
  const bytes = await readFile(path.join(DIR, p.file));
  let region: Region | undefined;
  if (detector) {
    const d = await detector.detect(bytes);
    const main = d.objects[0];
    if (main) {
      detected++;
      region = growBox(main.box, d.image.width, d.image.height, DETECTION_MARGIN);
    }
  } else if (p.box) {
    const [x0, y0, x1, y1] = p.box as [number, number, number, number];
    const { width, height } = await inspectImage(bytes);
    region = growBox(
      { x: x0, y: y0, width: x1 - x0, height: y1 - y0 },
      width,
      height,
      DETECTION_MARGIN,
    );
  }
  photos.push(split((await embedder.embed(bytes, region ? { region } : {})).vector));
}
const skuAt = new Map(index.skus.map((s, i) => [s.sku, i]));
const shapeCos = photos.map(([s]) => cat.map(([cs]) => dot(s, cs)));
const colourCos = photos.map(([, c]) => cat.map(([, cc]) => dot(c, cc)));

function f1Best(pos: number[], neg: number[]) {
  const all = [...pos.map((s) => [s, 1] as const), ...neg.map((s) => [s, 0] as const)].sort(
    (a, b) => b[0] - a[0],
  );
  let tp = 0;
  let fp = 0;
  let best = { threshold: NaN, f1: -1, precision: 0, recall: 0 };
  for (const [s, y] of all) {
    if (y) tp++;
    else fp++;
    const precision = tp / (tp + fp);
    const recall = tp / pos.length;
    const f1 = (2 * precision * recall) / Math.max(precision + recall, 1e-9);
    if (f1 > best.f1) best = { threshold: s, f1, precision, recall };
  }
  return best;
}

const rows = [];
for (let w = 0; w <= 0.601; w += 0.05) {
  let r1 = 0;
  let p10 = 0;
  const sameCat: number[] = [];
  const otherCat: number[] = [];
  index.photos.forEach((p, q) => {
    const want = index.skus[skuAt.get(p.sku) as number]!;
    const scores = cat.map((_, j) => (1 - w) * shapeCos[q]![j]! + w * colourCos[q]![j]!);
    const order = scores.map((s, j) => [s, j] as const).sort((a, b) => b[0] - a[0]);
    if (index.skus[order[0]![1]]!.sku === p.sku) r1++;
    p10 += order.slice(0, 10).filter(([, j]) => index.skus[j]!.label === want.label).length / 10;
    scores.forEach((s, j) => (index.skus[j]!.label === want.label ? sameCat : otherCat).push(s));
  });
  const photoAt = new Map(index.photos.map((p, q) => [p.file, q]));
  const pairScore = (kind: string) =>
    index.pairs
      .filter((x) => x.kind === kind)
      .map((x) => {
        const q = photoAt.get(x.photo) as number;
        const j = skuAt.get(x.sku) as number;
        return (1 - w) * shapeCos[q]![j]! + w * colourCos[q]![j]!;
      });
  const same = pairScore('same');
  const otherColour = pairScore('otherColour');
  const otherDesign = pairScore('otherDesign');
  const match = f1Best(same, [...otherColour, ...otherDesign]);
  const search = f1Best(sameCat, otherCat);
  rows.push({
    weight: Math.round(w * 100) / 100,
    'skuRecall@1': r1 / photos.length,
    'categoryPrecision@10': p10 / photos.length,
    match: {
      ...match,
      otherColourCalledMatch:
        otherColour.filter((s) => s >= match.threshold).length / otherColour.length,
    },
    search,
  });
}
const base = rows[0]!;
const eligible = rows.filter(
  (r) => r['categoryPrecision@10'] >= base['categoryPrecision@10'] - 0.01,
);
const chosen = eligible.reduce((a, b) => (b['skuRecall@1'] > a['skuRecall@1'] ? b : a));
const r4 = (x: number) => Math.round(x * 10000) / 10000;
for (const r of rows) {
  console.log(
    `w=${r.weight.toFixed(2)}  R@1 ${r['skuRecall@1'].toFixed(3)}  catP@10 ${r['categoryPrecision@10'].toFixed(3)}  ` +
      `match F1 ${r.match.f1.toFixed(3)} @ ${r.match.threshold.toFixed(3)} (other colour ${r.match.otherColourCalledMatch.toFixed(3)})  ` +
      `search F1 ${r.search.f1.toFixed(3)} @ ${r.search.threshold.toFixed(3)}`,
  );
}
console.log(
  `chosen w=${chosen.weight}; main product detected in ${detected}/${photos.length} photos`,
);
const euclid = (cos: number) => Math.sqrt(Math.max(0, 2 - 2 * cos));
await writeFile(
  path.join(DIR, 'colour-weight.json'),
  `${JSON.stringify(
    {
      boxes: boxesFrom,
      detected: detector ? detected / photos.length : null,
      rule: "highest exact-SKU Recall@1 among weights whose category precision@10 is within 0.01 of w = 0's",
      chosen: chosen.weight,
      table: rows.map((r) => ({
        weight: r.weight,
        'skuRecall@1': r4(r['skuRecall@1']),
        'categoryPrecision@10': r4(r['categoryPrecision@10']),
        matchF1: r4(r.match.f1),
        matchThreshold: r4(r.match.threshold),
        otherColourCalledMatch: r4(r.match.otherColourCalledMatch),
        searchF1: r4(r.search.f1),
      })),
      defaults: {
        cosine: {
          searchThreshold: r4(chosen.search.threshold),
          matchThreshold: r4(chosen.match.threshold),
        },
        euclidean: {
          searchThreshold: r4(euclid(chosen.search.threshold)),
          matchThreshold: r4(euclid(chosen.match.threshold)),
        },
      },
      thresholds: {
        match: { ...chosen.match, threshold: r4(chosen.match.threshold) },
        search: { ...chosen.search, threshold: r4(chosen.search.threshold) },
        protocol:
          'validation shopper set: match = F1-optimal over (photo, same SKU) vs (photo, other colour) + (photo, other design of the category) pairs; search = F1-optimal same-category over all (photo, catalog image) pairs. Euclidean = sqrt(2 - 2 cos).',
      },
    },
    null,
    1,
  )}\n`,
);
await embedder.close();
await detector?.close();
