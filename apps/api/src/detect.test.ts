import {
  COLOURS,
  readFashionSample,
  renderCatalogImage,
  renderScenePhoto,
  seedDemoCatalog,
  type Colour,
  type DetectedObject,
  type Detector,
  type ScenePhoto,
} from '@lookalike/core';
import { testEngines } from '@lookalike/db';
import { createDetector, sha256Hex, type Region } from '@lookalike/inference';
import { GraphQLClient } from '@lookalike/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServer } from './server.js';
import { sharedEmbedder, startTestServer, testConfig, type TestServer } from './testing/server.js';

/**
 * The real detector, counted; for photos a test scripts, the boxes the test says are there (the
 * real detector still runs on them: same decoding, same errors).
 */
class CountingDetector implements Detector {
  calls = 0;
  private readonly scripts = new Map<string, DetectedObject[]>();
  constructor(private readonly inner: Detector) {}
  get info() {
    return this.inner.info;
  }
  script(photo: Uint8Array, objects: DetectedObject[]) {
    this.scripts.set(sha256Hex(photo), objects);
  }
  async detect(bytes: Uint8Array, options?: Parameters<Detector['detect']>[1]) {
    this.calls++;
    const real = await this.inner.detect(bytes, options);
    const scripted = this.scripts.get(sha256Hex(bytes));
    return scripted ? { ...real, objects: scripted } : real;
  }
  close() {
    return Promise.resolve();
  }
}

const BOX = 'box { x y width height }';
const HITS = 'hits { score verdict product { id externalId category } }';
const SIMILAR = `
  query Similar($image: Upload, $first: Int, $filter: ProductFilter, $region: ImageRegion, $detect: Boolean, $productIds: [ID!]) {
    similarProducts(image: $image, first: $first, filter: $filter, region: $region, detect: $detect, productIds: $productIds) {
      model tookMs timings { detectMs embedMs searchMs }
      searchedBox { x y width height }
      searchedDetection { ${BOX} score category }
      ${HITS}
      objects { ${BOX} score category ${HITS} }
    }
  }`;
const SIMILAR_NO_OBJECTS = `
  query($image: Upload!, $first: Int) {
    similarProducts(image: $image, first: $first) { searchedBox { x y width height } searchedDetection { score } ${HITS} }
  }`;
const DETECT = `query($image: Upload!) { detectProducts(image: $image) { width height model tookMs objects { ${BOX} score category } } }`;

interface Hit {
  score: number;
  verdict: string;
  product: { id: string; externalId: string; category: string };
}
interface Found {
  box: Region;
  score: number;
  category: string | null;
}
interface Similar {
  model: string;
  tookMs: number;
  timings: { detectMs: number; embedMs: number; searchMs: number };
  searchedBox: Region | null;
  searchedDetection: Found | null;
  hits: Hit[];
  objects: (Found & { hits: Hit[] })[];
}
interface Detection {
  width: number;
  height: number;
  model: string;
  objects: Found[];
}

const jpeg = (bytes: Uint8Array) => ({ bytes, type: 'image/jpeg', name: 'photo.jpg' });

function iou(a: Region, b: Region): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  const inter = Math.max(0, w) * Math.max(0, h);
  return inter / (a.width * a.height + b.width * b.height - inter);
}

describe.each(testEngines())('product detection over HTTP ($name)', (engine) => {
  let t: TestServer;
  let api: GraphQLClient;
  let real: Detector;
  let detector: CountingDetector;
  const scenes: ScenePhoto[] = [];
  /** The demo products in scenes[i], left to right. */
  const sceneProducts = [
    ['DEMO-00001', 'DEMO-00002'],
    ['DEMO-00003', 'DEMO-00004'],
  ];

  beforeAll(async () => {
    real = await createDetector({ model: 'product-detector', device: 'cpu' });
    detector = new CountingDetector(real);
    t = await startTestServer(engine, {}, { detector });
    api = t.client;
    const merchantId = t.server.bootstrap.merchantId;
    await seedDemoCatalog(t.server.core.catalog, merchantId, { count: 60, extraPhotoShare: 0.3 });
    const sample = await readFashionSample();
    for (const [s, externalIds] of sceneProducts.entries()) {
      const items = [];
      for (const externalId of externalIds) {
        const product = await t.db.products.getByExternalId(merchantId, externalId);
        items.push({
          pixels: sample.images[Number(externalId.slice(-5)) - 1] as Uint8Array,
          colour: COLOURS.find((c) => c.name === product?.labels.color) as Colour,
        });
      }
      scenes.push(await renderScenePhoto(items, 101 + s));
    }
    // scenes[1] is scripted: the products where the scene put them, the right one the main.
    const [left, right] = scenes[1]?.boxes as [Region, Region];
    detector.script(scenes[1]?.photo as Buffer, [
      { box: right, score: 0.8, classIndex: 0, category: 'Right' },
      { box: left, score: 0.5, classIndex: 1, category: 'Left' },
    ]);
  });
  afterAll(async () => {
    await t.stop();
    await real.close();
  });

  const scripted = () => scenes[1] as ScenePhoto;
  const similar = (variables: Record<string, unknown>, photo = scripted().photo) =>
    api.upload<{ similarProducts: Similar }>(SIMILAR, variables, { image: jpeg(photo) });

  it('searches the main detected product and says which box it searched', async () => {
    const [, right] = scripted().boxes as [Region, Region];
    const res = await similar({ first: 5 });
    expect(res.errors).toBeUndefined();
    const r = res.data?.similarProducts as Similar;
    expect(r.searchedDetection).toEqual({ box: right, score: 0.8, category: 'Right' });
    const box = r.searchedBox as Region;
    // The detected box with a margin on each side, inside the photo.
    expect(box.x).toBeLessThan(right.x);
    expect(box.y).toBeLessThan(right.y);
    expect(box.x + box.width).toBeGreaterThan(right.x + right.width);
    expect(box.x + box.width).toBeLessThanOrEqual(scripted().width);
    expect(r.hits[0]?.product.externalId).toBe('DEMO-00004');
    expect(r.tookMs).toBeGreaterThanOrEqual(r.timings.detectMs);
    expect(r.timings.detectMs).toBeGreaterThan(0);
  });

  it('objects: every detected product with its own hits; first and filter apply per object', async () => {
    const res = await similar({ first: 3 });
    const r = res.data?.similarProducts as Similar;
    expect(r.objects.map((o) => o.category)).toEqual(['Right', 'Left']);
    expect(r.objects[0]?.hits[0]?.product.externalId).toBe('DEMO-00004');
    expect(r.objects[1]?.hits[0]?.product.externalId).toBe('DEMO-00003');
    expect(r.objects.map((o) => o.hits.length)).toEqual([3, 3]);
    expect(r.objects[0]?.hits).toEqual(r.hits);
    const one = (await similar({ first: 1 })).data?.similarProducts as Similar;
    expect(one.objects.map((o) => o.hits.length)).toEqual([1, 1]);
    const leftCategory = r.objects[1]?.hits[0]?.product.category as string;
    const filtered = (await similar({ first: 5, filter: { category: leftCategory } })).data
      ?.similarProducts as Similar;
    const all = [...filtered.hits, ...filtered.objects.flatMap((o) => o.hits)];
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((h) => h.product.category === leftCategory)).toBe(true);
  });

  it('computes objects only when the query selects them (directly, by fragment, not @skip-ped)', async () => {
    const embed = vi.spyOn(t.server.core.registry.default, 'embed');
    const image = { image: jpeg(scripted().photo) };
    const calls = () => [detector.calls, embed.mock.calls.length];
    try {
      let before = calls();
      const plain = await api.upload<{ similarProducts: Similar }>(
        SIMILAR_NO_OBJECTS,
        { first: 3 },
        image,
      );
      expect(plain.errors).toBeUndefined();
      expect(plain.data?.similarProducts.searchedDetection?.score).toBe(0.8);
      // One detection, one embedding: the main product only.
      expect(calls()).toEqual([(before[0] ?? 0) + 1, (before[1] ?? 0) + 1]);

      before = calls();
      await api.upload(
        `query($image: Upload!, $skip: Boolean!) { similarProducts(image: $image) { hits { score } objects @skip(if: $skip) { score } } }`,
        { skip: true },
        image,
      );
      expect(calls()).toEqual([(before[0] ?? 0) + 1, (before[1] ?? 0) + 1]);

      before = calls();
      const viaFragment = await api.upload<{ similarProducts: Similar }>(
        `query($image: Upload!) { similarProducts(image: $image, first: 2) { ...Objects } }
         fragment Objects on SimilarProductsResult { ... on SimilarProductsResult { objects { score hits { score } } } }`,
        {},
        image,
      );
      expect(viaFragment.data?.similarProducts.objects).toHaveLength(2);
      // One detection for both the main search and the objects; the main product's embedding
      // is shared with its object: two embeddings for two objects.
      expect(calls()).toEqual([(before[0] ?? 0) + 1, (before[1] ?? 0) + 2]);

      before = calls();
      // Aliased searches and detectProducts of one upload: one detection in the request.
      const aliased = await api.upload<{
        a: Similar;
        b: Similar;
        d: Detection;
      }>(
        `query($image: Upload!) {
          a: similarProducts(image: $image, metric: COSINE) { objects { score } }
          b: similarProducts(image: $image, metric: EUCLIDEAN) { searchedBox { x } }
          d: detectProducts(image: $image) { objects { score } }
        }`,
        {},
        image,
      );
      expect(aliased.errors).toBeUndefined();
      expect(aliased.data?.d.objects).toHaveLength(2);
      expect(calls()).toEqual([(before[0] ?? 0) + 1, (before[1] ?? 0) + 2]);
    } finally {
      embed.mockRestore();
    }
  });

  it('detect: false searches the whole photo; a region is searched as given; stored sources have no box', async () => {
    const photo = scripted();
    const calls = detector.calls;
    const off = (await similar({ detect: false })).data?.similarProducts as Similar;
    expect(detector.calls).toBe(calls);
    expect(off).toMatchObject({
      searchedBox: { x: 0, y: 0, width: photo.width, height: photo.height },
      searchedDetection: null,
      objects: [],
    });
    expect(off.timings.detectMs).toBe(0);
    const [left] = photo.boxes as [Region];
    const region = (await similar({ region: left, first: 3 })).data?.similarProducts as Similar;
    expect(region.searchedBox).toEqual(left);
    expect(region.searchedDetection).toBeNull();
    // The objects still come from the whole photo.
    expect(region.objects).toHaveLength(2);
    const productId = region.hits[0]?.product.id as string;
    const stored = await api.query<{ similarProducts: Similar }>(SIMILAR, {
      productIds: [productId],
    });
    expect(stored.errors).toBeUndefined();
    expect(stored.data?.similarProducts).toMatchObject({
      searchedBox: null,
      searchedDetection: null,
      objects: [],
    });
  });

  it('detectProducts answers the boxes with the SEARCH scope, like similarProducts', async () => {
    const photo = scripted();
    const res = await api.upload<{ detectProducts: Detection }>(
      DETECT,
      {},
      { image: jpeg(photo.photo) },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.detectProducts).toMatchObject({
      width: photo.width,
      height: photo.height,
      model: 'product-detector-v1',
      objects: [
        { box: photo.boxes[1], score: 0.8, category: 'Right' },
        { box: photo.boxes[0], score: 0.5, category: 'Left' },
      ],
    });
    const anonymous = await api.withKey(undefined).upload(DETECT, {}, { image: jpeg(photo.photo) });
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const { token } = await t.server.core.apiKeys.create(t.server.bootstrap.merchantId, 'writer', [
      'CATALOG_WRITE',
    ]);
    const denied = await api.withKey(token).upload(DETECT, {}, { image: jpeg(photo.photo) });
    expect(denied.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      requiredScopes: ['SEARCH'],
    });
  });

  it('bad uploads get the same codes from detectProducts as from similarProducts', async () => {
    const photo = scripted().photo;
    const uploads: [string, { bytes: Uint8Array; type?: string }, string][] = [
      ['empty file', { bytes: Buffer.alloc(0), type: 'image/jpeg' }, 'BAD_USER_INPUT'],
      [
        'not an image',
        { bytes: Buffer.from('%PDF-1.4 not an image'), type: 'image/png' },
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      ['truncated', { bytes: photo.subarray(0, 200), type: 'image/jpeg' }, 'BAD_USER_INPUT'],
      [
        'too large',
        { bytes: Buffer.concat([photo, Buffer.alloc(11 * 1024 * 1024)]), type: 'image/jpeg' },
        'PAYLOAD_TOO_LARGE',
      ],
    ];
    for (const [name, file, code] of uploads) {
      const detect = await api.upload(DETECT, {}, { image: file });
      const search = await api.upload(SIMILAR_NO_OBJECTS, {}, { image: file });
      expect(detect.status, name).toBeLessThan(500);
      expect(detect.errors?.[0]?.extensions?.code, name).toBe(code);
      expect(search.errors?.[0]?.extensions?.code, name).toBe(code);
    }
    expect(t.logs.filter((l) => l.includes('unexpected error'))).toEqual([]);
  });

  it('objects count towards query complexity: ten searches of `first` hits each', async () => {
    const fields = `score distance verdict product { id externalId title description category labels price currency url } image { id url sha256 width height mime }`;
    const query = (first: number) =>
      `query($image: Upload!) { similarProducts(image: $image, first: ${first}) { hits { ${fields} } objects { ${BOX} score category hits { ${fields} } } } }`;
    const ok = await api.upload(query(10), {}, { image: jpeg(scripted().photo) });
    expect(ok.errors).toBeUndefined();
    const refused = await api.upload(query(100), {}, { image: jpeg(scripted().photo) });
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.message).toMatch(/complexity \d+ exceeds the limit of 20000/);
  });

  it('DETECTOR=none: whole photos are searched, no objects, detectProducts refused with a code', async () => {
    const plain = await createServer({
      config: testConfig({
        dataDir: t.dataDir,
        DETECTOR: null,
        MODELS: ['fashion-resnet'],
        INFERENCE_DEVICE: 'cpu',
      }),
      db: t.db,
      logger: { info: () => undefined, error: () => undefined },
    });
    try {
      expect(plain.core.detector).toBeNull();
      const url = await plain.listen(0, '127.0.0.1');
      const there = new GraphQLClient(url, t.key);
      const photo = scripted();
      const r = await there.upload<{ similarProducts: Similar }>(
        SIMILAR,
        {},
        {
          image: jpeg(photo.photo),
        },
      );
      expect(r.errors).toBeUndefined();
      expect(r.data?.similarProducts).toMatchObject({
        searchedBox: { x: 0, y: 0, width: photo.width, height: photo.height },
        searchedDetection: null,
        objects: [],
      });
      const d = await there.upload(DETECT, {}, { image: jpeg(photo.photo) });
      expect(d.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        reason: 'DETECTION_DISABLED',
      });
      expect(d.errors?.[0]?.message).toMatch(/detection is disabled/);
      const ready = (await (await fetch(`${url}/readyz`)).json()) as {
        checks: Record<string, string>;
      };
      expect(ready.checks.detector).toMatch(/^none/);
    } finally {
      await plain.close();
    }
  });

  it('matchImages compares the main product of each image, and says which part', async () => {
    const MATCH = `query($a: Upload!, $b: Upload!, $detect: Boolean) {
      matchImages(a: $a, b: $b, detect: $detect) { score isMatch boxA { x y width height } boxB { x y width height } } }`;
    type Match = { score: number; isMatch: boolean; boxA: Region | null; boxB: Region | null };
    const sample = await readFashionSample();
    const merchantId = t.server.bootstrap.merchantId;
    const catalogOf = async (externalId: string) => {
      const product = await t.db.products.getByExternalId(merchantId, externalId);
      return renderCatalogImage(
        sample.images[Number(externalId.slice(-5)) - 1] as Uint8Array,
        COLOURS.find((c) => c.name === product?.labels.color) as Colour,
      );
    };
    const [left, right] = scripted().boxes as [Region, Region];
    const match = async (externalId: string, detect: boolean) => {
      const res = await api.upload<{ matchImages: Match }>(
        MATCH,
        { detect },
        {
          a: jpeg(scripted().photo),
          b: { bytes: await catalogOf(externalId), type: 'image/png', name: 'catalog.png' },
        },
      );
      expect(res.errors).toBeUndefined();
      return res.data?.matchImages as Match;
    };
    // The photo is compared by its main (scripted) product, the right one (DEMO-00004), with
    // the margin; the catalog image by the product the detector finds in it.
    const own = await match('DEMO-00004', true);
    const a = own.boxA as Region;
    expect(a.x).toBeLessThan(right.x);
    expect(a.x).toBeGreaterThan(left.x + left.width / 2);
    expect(a.x + a.width).toBeGreaterThan(right.x + right.width);
    // So the photo's main product is closer to its own catalog image than to its neighbour's.
    const neighbour = await match('DEMO-00003', true);
    expect(own.score).toBeGreaterThan(neighbour.score);
    const whole = await match('DEMO-00004', false);
    expect(whole.boxA).toBeNull();
    expect(whole.boxB).toBeNull();
  });

  it('createServer loads a detector from a model id, and closes it with the server', async () => {
    const own = await createServer({
      config: testConfig({ dataDir: t.dataDir }),
      db: t.db,
      embedders: [await sharedEmbedder()],
      detector: 'product-detector',
      logger: { info: () => undefined, error: () => undefined },
    });
    const loaded = own.core.detector as Detector;
    expect(loaded.info.key).toBe('product-detector-v1');
    await own.close();
    await expect(loaded.detect(scripted().photo)).rejects.toThrow();
  });

  it('finds both products of a photo with the bundled detector, each leading to itself', async () => {
    const scene = scenes[0] as ScenePhoto;
    const detected = await api.upload<{ detectProducts: Detection }>(
      DETECT,
      {},
      {
        image: jpeg(scene.photo),
      },
    );
    expect(detected.errors).toBeUndefined();
    const objects = detected.data?.detectProducts.objects ?? [];
    for (const [i, truth] of scene.boxes.entries()) {
      const best = Math.max(0, ...objects.map((o) => iou(o.box, truth)));
      expect(
        best,
        `no detected box overlaps ${sceneProducts[0]?.[i]} (IoU >= 0.5)`,
      ).toBeGreaterThanOrEqual(0.5);
    }
    const res = await similar({ first: 5 }, scene.photo);
    const r = res.data?.similarProducts as Similar;
    expect(r.objects.length).toBeGreaterThanOrEqual(2);
    for (const [i, truth] of scene.boxes.entries()) {
      const own = r.objects.find((o) => iou(o.box, truth) >= 0.5);
      const externalId = sceneProducts[0]?.[i];
      expect(own, externalId).toBeDefined();
      expect(
        own?.hits.map((h) => h.product.externalId),
        externalId,
      ).toContain(externalId);
    }
    // The main search is the best object's.
    expect(r.searchedDetection?.box).toEqual(r.objects[0]?.box);
    expect(r.hits).toEqual(r.objects[0]?.hits);
    // The first product of each object is its own (reported, not required: top 5 is).
    const firsts = scene.boxes.map(
      (truth) => r.objects.find((o) => iou(o.box, truth) >= 0.5)?.hits[0]?.product.externalId,
    );
    console.log(`detected ${objects.length} objects; first hits ${firsts.join(', ')}`);
  });
});
