import { testEngines } from '@lookalike/db';
import { inspectImage, sha256Hex, type Region } from '@lookalike/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FASHION_CATEGORIES, readFashionSample } from '../demo/fashion-sample.js';
import { COLOURS, renderScenePhoto, type Colour, type ScenePhoto } from '../demo/render.js';
import { seedDemoCatalog } from '../demo/seed.js';
import { startTestCore, type TestCore } from '../testing/test-core.js';
import type { DetectedObject, Detector, DetectorInfo } from './detector.js';
import { DETECTION_MARGIN, growBox } from './search.service.js';

/**
 * A detector that finds what a test says is in a photo (by content hash) and nothing elsewhere;
 * it checks the bytes as a real one does (empty, not an image, too large: the typed errors).
 */
class ScriptedDetector implements Detector {
  readonly info: DetectorInfo = {
    id: 'scripted-detector',
    version: 1,
    key: 'scripted-detector-v1',
    classes: FASHION_CATEGORIES,
    decode: { minScore: 0.3, maxObjects: 10, nmsIoU: 0.5 },
  };
  calls = 0;
  private readonly scripts = new Map<string, DetectedObject[]>();

  script(photo: Uint8Array, objects: DetectedObject[]): void {
    this.scripts.set(sha256Hex(photo), objects);
  }

  async detect(bytes: Uint8Array) {
    this.calls++;
    const image = await inspectImage(bytes);
    return { objects: this.scripts.get(sha256Hex(bytes)) ?? [], image, scale: 1 };
  }

  close() {
    return Promise.resolve();
  }
}

const object = (box: Region, score: number, classIndex: number): DetectedObject => ({
  box,
  score,
  classIndex,
  category: FASHION_CATEGORIES[classIndex] ?? null,
});

describe.each(testEngines())('product detection in similarProducts ($name)', (engine) => {
  let t: TestCore;
  const detector = new ScriptedDetector();
  /** DEMO-00001 (an ankle boot) left, DEMO-00002 (a pullover) right, on a grained surface. */
  let scene: ScenePhoto;
  const ids: Record<string, string> = {};
  const categories: Record<string, string> = {};
  let embeds: () => number;

  beforeAll(async () => {
    t = await startTestCore(engine, { detector });
    await seedDemoCatalog(t.core.catalog, t.merchantId, { count: 60, extraPhotoShare: 0.3 });
    const sample = await readFashionSample();
    const items = [];
    for (const externalId of ['DEMO-00001', 'DEMO-00002']) {
      const product = await t.core.catalog.getByExternalId(t.merchantId, externalId);
      ids[externalId] = product?.id ?? '';
      categories[externalId] = product?.category ?? '';
      const i = Number(externalId.slice(-5)) - 1;
      items.push({
        pixels: sample.images[i] as Uint8Array,
        colour: COLOURS.find((c) => c.name === product?.labels.color) as Colour,
      });
    }
    scene = await renderScenePhoto(items, 11);
    const [boot, pullover] = scene.boxes as [Region, Region];
    detector.script(scene.photo, [
      // The pullover is the main product: the highest score (not the first in the list).
      object(boot, 0.62, 9),
      object(pullover, 0.91, 2),
      // Under the detector's minScore: never searched, never reported.
      object({ x: 0, y: 0, width: 40, height: 40 }, 0.12, 8),
    ]);
    embeds = () => t.core.registry.default.stats().images;
  });
  afterAll(() => t.stop());

  const search = (
    source: Parameters<TestCore['core']['search']['similarProducts']>[1],
    args: Parameters<TestCore['core']['search']['similarProducts']>[2] = {},
    options: Parameters<TestCore['core']['search']['similarProducts']>[3] = {},
  ) => t.core.search.similarProducts(t.merchantId, source, args, options);

  it('searches the main detected product (highest score), its box grown by the margin', async () => {
    const [, pullover] = scene.boxes as [Region, Region];
    const [calls, embedded] = [detector.calls, embeds()];
    const r = await search({ image: scene.photo }, { first: 5 });
    expect(detector.calls - calls).toBe(1);
    expect(embeds() - embedded).toBe(1);
    expect(r.searchedDetection).toEqual({ box: pullover, score: 0.91, category: 'Pullover' });
    const grown = growBox(pullover, scene.width, scene.height, DETECTION_MARGIN);
    expect(r.searchedBox).toEqual(grown);
    // The margin is DETECTION_MARGIN of the box on each side (here inside the photo).
    expect(grown.x).toBe(pullover.x - Math.round(pullover.width * DETECTION_MARGIN));
    expect(grown.width).toBe(pullover.width + 2 * Math.round(pullover.width * DETECTION_MARGIN));
    expect(r.hits[0]?.product.externalId).toBe('DEMO-00002');
    expect(r.objects).toEqual([]);
    expect(r.timings.detectMs).toBeGreaterThan(0);
    expect(r.tookMs).toBeGreaterThanOrEqual(r.timings.detectMs + r.timings.embedMs);
    // The same as searching that box as a region, without detection.
    const region = await search({ image: scene.photo, region: grown }, { first: 5 });
    expect(region.hits.map((h) => h.product.id)).toEqual(r.hits.map((h) => h.product.id));
    expect(region.searchedDetection).toBeNull();
  });

  it('searches the whole photo when nothing is detected confidently, or with detect: false', async () => {
    detector.script(scene.photo, [object(scene.boxes[0] as Region, 0.2, 9)]);
    try {
      const r = await search({ image: scene.photo }, { first: 5, threshold: -1 });
      expect(r.searchedDetection).toBeNull();
      expect(r.searchedBox).toEqual({ x: 0, y: 0, width: scene.width, height: scene.height });
      const calls = detector.calls;
      const off = await search({ image: scene.photo, detect: false }, { first: 5, threshold: -1 });
      expect(detector.calls).toBe(calls);
      expect(off.searchedBox).toEqual(r.searchedBox);
      expect(off.hits.map((h) => h.product.id)).toEqual(r.hits.map((h) => h.product.id));
      // detect: false also turns the objects off.
      const noObjects = await search({ image: scene.photo, detect: false }, {}, { objects: true });
      expect(noObjects.objects).toEqual([]);
      expect(detector.calls).toBe(calls);
    } finally {
      detector.script(scene.photo, [
        object(scene.boxes[0] as Region, 0.62, 9),
        object(scene.boxes[1] as Region, 0.91, 2),
      ]);
    }
  });

  it('a region is searched as given (clamped to the photo), without detection', async () => {
    const [boot] = scene.boxes as [Region];
    const calls = detector.calls;
    const r = await search(
      { image: scene.photo, region: { ...boot, width: scene.width * 2 } },
      { first: 5 },
    );
    expect(detector.calls).toBe(calls);
    expect(r.searchedDetection).toBeNull();
    expect(r.searchedBox).toEqual({ ...boot, width: scene.width - boot.x });
    const exact = await search(
      { image: scene.photo, region: growBox(boot, scene.width, scene.height, DETECTION_MARGIN) },
      { first: 5 },
    );
    expect(exact.hits[0]?.product.externalId).toBe('DEMO-00001');
    // Objects still come from the whole photo (one detection).
    const withObjects = await search(
      { image: scene.photo, region: boot },
      { first: 3 },
      { objects: true },
    );
    expect(detector.calls).toBe(calls + 1);
    expect(withObjects.searchedBox).toEqual(boot);
    expect(withObjects.objects).toHaveLength(2);
  });

  it('objects: every confident product, highest score first, each with its own hits; the main embedding is shared', async () => {
    const [boot, pullover] = scene.boxes as [Region, Region];
    const [calls, embedded] = [detector.calls, embeds()];
    const r = await search({ image: scene.photo }, { first: 4 }, { objects: true });
    expect(detector.calls - calls).toBe(1);
    // Two objects, the main one among them: two embeddings, not three.
    expect(embeds() - embedded).toBe(2);
    expect(r.objects.map(({ box, score, category }) => ({ box, score, category }))).toEqual([
      { box: pullover, score: 0.91, category: 'Pullover' },
      { box: boot, score: 0.62, category: 'Ankle boot' },
    ]);
    expect(r.objects[0]?.hits[0]?.product.externalId).toBe('DEMO-00002');
    expect(r.objects[1]?.hits[0]?.product.externalId).toBe('DEMO-00001');
    // The main object's hits are the main search's.
    expect(r.objects[0]?.hits.map((h) => h.product.id)).toEqual(r.hits.map((h) => h.product.id));
    // `first` applies per object.
    for (const o of r.objects) expect(o.hits.length).toBeLessThanOrEqual(4);
    const one = await search({ image: scene.photo }, { first: 1 }, { objects: true });
    expect(one.objects.map((o) => o.hits.length)).toEqual([1, 1]);
  });

  it('metric, threshold and filter apply to every object', async () => {
    const boots = categories['DEMO-00001'] as string;
    const r = await search(
      { image: scene.photo },
      { first: 5, threshold: -1, filter: { category: boots } },
      { objects: true },
    );
    expect(r.hits.length).toBeGreaterThan(0);
    for (const h of [...r.hits, ...r.objects.flatMap((o) => o.hits)]) {
      expect(h.product.category).toBe(boots);
    }
    // The pullover's own hits are boots too (the filter wins), the boot finds itself.
    expect(r.objects[1]?.hits[0]?.product.externalId).toBe('DEMO-00001');
    const l2 = await search(
      { image: scene.photo },
      { first: 3, metric: 'euclidean', threshold: 0.0001 },
      { objects: true },
    );
    expect(l2.metric).toBe('euclidean');
    // A threshold almost nothing passes cuts every object's hits too.
    expect(l2.objects.every((o) => o.hits.length === 0)).toBe(true);
  });

  it('detects once per unit of work: aliased searches of one photo share the detection', async () => {
    const [calls, embedded] = [detector.calls, embeds()];
    const memo = { memo: new Map(), detections: new Map() };
    const [a, b] = await Promise.all([
      search({ image: scene.photo }, { metric: 'cosine' }, { ...memo, objects: true }),
      search({ image: scene.photo }, { metric: 'euclidean' }, memo),
    ]);
    expect(detector.calls - calls).toBe(1);
    expect(embeds() - embedded).toBe(2);
    expect(a.searchedBox).toEqual(b.searchedBox);
    const again = await search({ image: scene.photo }, {}, memo);
    expect(detector.calls - calls).toBe(1);
    expect(again.timings.detectMs).toBeLessThan(5);
  });

  it('stored sources (productIds, imageId) run no detection: no box, no objects', async () => {
    const calls = detector.calls;
    const r = await search({ productIds: [ids['DEMO-00001'] as string] }, {}, { objects: true });
    expect(detector.calls).toBe(calls);
    expect(r).toMatchObject({ searchedBox: null, searchedDetection: null, objects: [] });
    expect(r.timings.detectMs).toBe(0);
  });

  it('detectProducts answers the confident boxes; without a detector it is refused with a code', async () => {
    const d = await t.core.search.detectProducts(t.merchantId, scene.photo);
    expect(d).toMatchObject({
      width: scene.width,
      height: scene.height,
      model: 'scripted-detector-v1',
      objects: [
        { box: scene.boxes[1], score: 0.91, category: 'Pullover' },
        { box: scene.boxes[0], score: 0.62, category: 'Ankle boot' },
      ],
    });
    await expect(
      t.core.search.detectProducts(t.merchantId, new Uint8Array(0)),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(
      t.core.search.detectProducts(t.merchantId, Buffer.from('not an image at all')),
    ).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });

    const plain = await t.reopen({ detector: null });
    expect(plain.detector).toBeNull();
    await expect(plain.search.detectProducts(t.merchantId, scene.photo)).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      details: { reason: 'DETECTION_DISABLED' },
    });
    const whole = await plain.search.similarProducts(
      t.merchantId,
      { image: scene.photo },
      {},
      { objects: true },
    );
    expect(whole).toMatchObject({
      searchedBox: { x: 0, y: 0, width: scene.width, height: scene.height },
      searchedDetection: null,
      objects: [],
    });
  });
});
