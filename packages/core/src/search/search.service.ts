import { performance } from 'node:perf_hooks';
import type { Db, ImageRecord, Metric, ProductRecord } from '@lookalike/db';
import { sha256Hex, type EmbedResult, type Region } from '@lookalike/inference';
import {
  isLooserThreshold,
  l2Normalize,
  measure,
  passesThreshold,
  validateThreshold,
  verdict,
  type Verdict,
} from '@lookalike/search';
import { toDbFilter, type ProductFilterInput } from '../catalog/catalog.service.js';
import { badInput, CoreError, CoreErrorCode, notFound } from '../errors.js';
import type { ModelRegistry } from '../models/model-registry.js';
import { MAX_FIRST, type SettingsService } from '../settings/settings.service.js';
import type { DetectedObject, DetectionResult, Detector } from './detector.js';

/** At most this many products start one "more like this". */
export const MAX_MORE_LIKE_THIS = 20;

/**
 * At most this many detected products get a search of their own (`objects`), the highest scores
 * first: the bundled detector's maxObjects, and what the API's query complexity counts.
 */
export const MAX_OBJECT_SEARCHES = 10;

/**
 * A detected box is searched grown by this share of its width (and height) on each side, clamped
 * to the image. Detector boxes are tight and off by a few pixels (the bundled one regresses box
 * size on a stride-4 grid of a 128 px input: an error of 1-2 input pixels is 2-3% of a typical
 * box); a box that cuts into the product changes the silhouette the embedder sees, while a
 * border of background costs little (fashion-resnet trims a uniform border before fitting, as
 * its catalog photos have one). 6% covers the box error with room and still keeps out a
 * neighbouring product that stands more than ~12% of a box away.
 */
export const DETECTION_MARGIN = 0.06;

/**
 * What a search starts from: exactly one of a photo (with an optional region of it), stored
 * products ("more like this": their vectors averaged), or one stored image.
 */
export interface QuerySource {
  image?: Uint8Array | null;
  /** Search this part of the photo (no detection for the main search). */
  region?: Region | null;
  /**
   * Detect products in the photo and search the main one (the highest score), or the whole
   * photo when none is found confidently. Default true; false (or a core without a detector):
   * the whole photo, no objects.
   */
  detect?: boolean | null;
  productIds?: readonly string[] | null;
  imageId?: string | null;
  /** A photo at this URL, fetched by the SSRF-safe client (then as `image`). */
  imageUrl?: string | null;
}

export interface SimilarProductsArgs {
  first?: number | null;
  metric?: Metric | null;
  threshold?: number | null;
  filter?: ProductFilterInput | null;
}

/**
 * Embeddings to share within one unit of work, by model, content and region: one request may
 * search the same photo several times (the dashboard asks for both metrics in one operation,
 * aliased fields sharing one upload). Pass the same map to each call and the photo is embedded
 * once, however the calls interleave.
 */
export type EmbeddingMemo = Map<string, Promise<EmbedResult>>;

/** Detections to share within one unit of work, by detector and content (like EmbeddingMemo). */
export type DetectionMemo = Map<string, Promise<DetectionResult>>;

export interface SearchOptions {
  memo?: EmbeddingMemo;
  detections?: DetectionMemo;
  /**
   * Also search every detected product (`objects`, at most MAX_OBJECT_SEARCHES): one embedding
   * and one nearest query more per object. Off (default): `objects` is [].
   */
  objects?: boolean;
}

export interface MatchImagesArgs {
  metric?: Metric | null;
  threshold?: number | null;
  /** Compare the main detected product of each image (default true, when the server has a
   * detector); false: the whole images. */
  detect?: boolean | null;
}

export interface SimilarProduct {
  product: ProductRecord;
  /** The product's image closest to the query. */
  image: ImageRecord;
  score: number;
  distance: number;
  verdict: Verdict;
}

/** A product the detector found in a photo. */
export interface DetectedProduct {
  /** Integer pixels of the image as displayed (EXIF orientation applied). */
  box: Region;
  score: number;
  category: string | null;
}

/** A detected product and its own nearest products. */
export interface DetectedProductHits extends DetectedProduct {
  hits: SimilarProduct[];
}

/** Where the time of the main search went, ms (the objects' searches run alongside). */
export interface SearchTimings {
  /** Running the detector (0 when it did not run; about 0 when the request had run it). */
  detectMs: number;
  /** Embedding what was searched (about 0 for a shared embedding or a stored vector). */
  embedMs: number;
  /** The nearest-products query. */
  searchMs: number;
}

export interface SimilarProductsResult {
  hits: SimilarProduct[];
  metric: Metric;
  threshold: number;
  matchThreshold: number;
  /** The model that answered (the merchant's serving model when the search ran). */
  model: string;
  /** Everything, detection included. */
  tookMs: number;
  timings: SearchTimings;
  /**
   * The part of the photo that was searched: the main detected product's box grown by
   * DETECTION_MARGIN, the region clamped to the image, or the whole image. Null when the search
   * did not start from a photo.
   */
  searchedBox: Region | null;
  /** The detected product that was searched; null when the whole photo or a region was. */
  searchedDetection: DetectedProduct | null;
  /** Every detected product with its own hits, when asked for (SearchOptions.objects). */
  objects: DetectedProductHits[];
}

/** The products a detector found in a photo. */
export interface ProductDetection {
  /** The image as displayed (EXIF orientation applied), pixels. */
  width: number;
  height: number;
  /** The detector that answered, e.g. product-detector-v1. */
  model: string;
  /** Highest score first. */
  objects: DetectedProduct[];
  tookMs: number;
}

export interface ImageMatch {
  score: number;
  distance: number;
  isMatch: boolean;
  verdict: Verdict | null;
  metric: Metric;
  threshold: number;
  model: string;
  /** The part of each image that was compared: its main detected product's box grown by
   * DETECTION_MARGIN; null: the whole image (detection off, or no product found). */
  boxA: Region | null;
  boxB: Region | null;
}

function checkThreshold(metric: Metric, value: number, field: string): void {
  const problem = validateThreshold(metric, value, field);
  if (problem) throw badInput(problem.message, field);
}

function checkRegion(region: Region): void {
  const { x, y, width, height } = region;
  if (![x, y, width, height].every(Number.isInteger) || x < 0 || y < 0 || width < 1 || height < 1) {
    throw badInput('region needs integers x, y >= 0 and width, height >= 1', 'region');
  }
}

/** A box grown by `margin` of its size on each side, clamped to a width x height image. */
export function growBox(box: Region, width: number, height: number, margin: number): Region {
  const mx = Math.round(box.width * margin);
  const my = Math.round(box.height * margin);
  return clampBox(
    { x: box.x - mx, y: box.y - my, width: box.width + 2 * mx, height: box.height + 2 * my },
    width,
    height,
  );
}

/** The part of an integer box inside a width x height image (what the embedder crops). */
function clampBox(box: Region, width: number, height: number): Region {
  const x = Math.max(0, box.x);
  const y = Math.max(0, box.y);
  return {
    x,
    y,
    width: Math.max(0, Math.min(width, box.x + box.width) - x),
    height: Math.max(0, Math.min(height, box.y + box.height) - y),
  };
}

const detectedProduct = (o: DetectedObject): DetectedProduct => ({
  box: { x: o.box.x, y: o.box.y, width: o.box.width, height: o.box.height },
  score: o.score,
  category: o.category,
});

/** The mean of vectors, normalised: the direction they share. */
function meanDirection(vectors: readonly ArrayLike<number>[]): Float32Array {
  const sum = new Float64Array(vectors[0]?.length ?? 0);
  for (const v of vectors)
    for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] ?? 0) + (v[i] ?? 0);
  return l2Normalize(sum);
}

/**
 * similarProducts, detectProducts and matchImages: a query vector (from a photo through the
 * serving model, from the main product a detector finds in it, or from stored vectors), one
 * pgvector query that also hydrates the hits, and verdicts. Every search runs on the merchant's
 * serving model as one cache entry says it is: one model per answer, named in the answer.
 */
export class SearchService {
  constructor(
    private readonly db: Db,
    private readonly registry: ModelRegistry,
    private readonly settings: SettingsService,
    /** Finds the products in a photo; null: detection is off (whole photos are searched). */
    private readonly detector: Detector | null = null,
    /** Fetches `imageUrl` sources (the SSRF-safe client); absent: imageUrl is refused. */
    private readonly fetchImage?: (url: string) => Promise<Uint8Array>,
  ) {}

  /**
   * Embeddings being computed now, by model, content hash and region: concurrent searches of
   * the same photo (from any request) share one. An embedding depends only on the bytes, the
   * region and the model, never on the merchant, so sharing is safe; entries leave when they
   * settle. A caller's memo (SearchOptions) also keeps the settled ones for its unit of work.
   */
  private readonly inFlight: EmbeddingMemo = new Map();

  /** Detections being computed now, by detector and content hash (shared like embeddings). */
  private readonly detecting: DetectionMemo = new Map();

  private embed(
    model: string,
    bytes: Uint8Array,
    sha256: string,
    region: Region | null | undefined,
    memo: EmbeddingMemo | undefined,
  ) {
    const key = `${model}:${sha256}${region ? `:${region.x},${region.y},${region.width},${region.height}` : ''}`;
    let pending = memo?.get(key) ?? this.inFlight.get(key);
    if (!pending) {
      pending = this.registry.require(model).embed(bytes, region ? { region } : {});
      this.inFlight.set(key, pending);
      const forget = () => this.inFlight.delete(key);
      pending.then(forget, forget);
    }
    memo?.set(key, pending);
    return pending;
  }

  /** One detection per photo and request (and across concurrent requests of the same photo). */
  private detect(
    detector: Detector,
    bytes: Uint8Array,
    sha256: string,
    memo: DetectionMemo | undefined,
  ): Promise<DetectionResult> {
    const key = `${detector.info.key}:${sha256}`;
    let pending = memo?.get(key) ?? this.detecting.get(key);
    if (!pending) {
      pending = detector.detect(bytes);
      this.detecting.set(key, pending);
      const forget = () => this.detecting.delete(key);
      pending.then(forget, forget);
    }
    memo?.set(key, pending);
    return pending;
  }

  /** The confident objects of a detection, highest score first. */
  private confident(detector: Detector, detection: DetectionResult): DetectedObject[] {
    const { minScore } = detector.info.decode;
    return detection.objects.filter((o) => o.score >= minScore).sort((a, b) => b.score - a.score);
  }

  async similarProducts(
    merchantId: string,
    source: QuerySource,
    args: SimilarProductsArgs,
    options: SearchOptions = {},
  ): Promise<SimilarProductsResult> {
    const started = performance.now();
    const given = (['image', 'imageUrl', 'productIds', 'imageId'] as const).filter(
      (k) => source[k] != null,
    );
    if (given.length !== 1) {
      throw badInput(
        `similarProducts takes exactly one of image, imageUrl, productIds and imageId (got ${given.length === 0 ? 'none' : given.join(', ')})`,
        given[1] ?? 'image',
      );
    }
    if (source.imageUrl != null) {
      if (!this.fetchImage) throw badInput('imageUrl is not available on this server', 'imageUrl');
      source = { ...source, image: await this.fetchImage(source.imageUrl), imageUrl: null };
    }
    if (source.region && source.image == null) {
      throw badInput('region applies to an uploaded image only', 'region');
    }
    const defaults = await this.settings.resolve(merchantId, args.metric ?? undefined);
    const { metric, matchThreshold, model } = defaults;
    const first = args.first ?? defaults.topK;
    if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST) {
      throw badInput(`first must be an integer in [1, ${MAX_FIRST}]`, 'first');
    }
    const threshold = args.threshold ?? defaults.searchThreshold;
    checkThreshold(metric, threshold, 'threshold');
    const filter = toDbFilter(args.filter);
    if (source.region) checkRegion(source.region);
    const query = { merchantId, model, metric, first, threshold, matchThreshold, filter };
    const timings: SearchTimings = { detectMs: 0, embedMs: 0, searchMs: 0 };
    const result = (
      hits: SimilarProduct[],
      photo: Pick<SimilarProductsResult, 'searchedBox' | 'searchedDetection' | 'objects'>,
    ): SimilarProductsResult => ({
      hits,
      metric,
      threshold,
      matchThreshold,
      model,
      tookMs: performance.now() - started,
      timings,
      ...photo,
    });

    if (source.image == null) {
      const { vector, exclude } = await this.storedVector(merchantId, model, source);
      const searching = performance.now();
      const hits = await this.nearest(query, vector, null, exclude);
      timings.searchMs = performance.now() - searching;
      return result(hits, { searchedBox: null, searchedDetection: null, objects: [] });
    }

    // A photo: detect first when the main search or the objects need it (once per request).
    const bytes = source.image;
    const sha256 = sha256Hex(bytes);
    const detector = source.detect === false ? null : this.detector;
    const detectMain = detector !== null && !source.region;
    const wantObjects = detector !== null && options.objects === true;
    let found: DetectedObject[] = [];
    let size: { width: number; height: number } | null = null;
    if (detector && (detectMain || wantObjects)) {
      const detecting = performance.now();
      const detection = await this.detect(detector, bytes, sha256, options.detections);
      timings.detectMs = performance.now() - detecting;
      found = this.confident(detector, detection);
      size = detection.image;
    }
    const main = detectMain ? (found[0] ?? null) : null;
    const grow = (box: Region) =>
      growBox(box, size?.width ?? 0, size?.height ?? 0, DETECTION_MARGIN);
    const region = main ? grow(main.box) : (source.region ?? null);

    // The objects start now, beside the main search; an object whose grown box is the main
    // region shares its embedding (same key).
    const objects = wantObjects
      ? found.slice(0, MAX_OBJECT_SEARCHES).map(async (o): Promise<DetectedProductHits> => {
          const { vector } = await this.embed(model, bytes, sha256, grow(o.box), options.memo);
          return { ...detectedProduct(o), hits: await this.nearest(query, vector, sha256, []) };
        })
      : [];
    // Settle the objects even when the main search fails (no unhandled rejection).
    const allObjects = Promise.all(objects);
    allObjects.catch(() => undefined);

    const embedding = performance.now();
    const { vector, image } = await this.embed(model, bytes, sha256, region, options.memo);
    timings.embedMs = performance.now() - embedding;
    const searching = performance.now();
    const hits = await this.nearest(query, vector, sha256, []);
    timings.searchMs = performance.now() - searching;
    return result(hits, {
      searchedBox: region
        ? clampBox(region, image.width, image.height)
        : { x: 0, y: 0, width: image.width, height: image.height },
      searchedDetection: main ? detectedProduct(main) : null,
      objects: await allObjects,
    });
  }

  /** The products in a photo, by the configured detector: boxes only, no search. */
  async detectProducts(
    _merchantId: string,
    image: Uint8Array,
    options: Pick<SearchOptions, 'detections'> = {},
  ): Promise<ProductDetection> {
    const started = performance.now();
    const detector = this.detector;
    if (!detector) {
      throw new CoreError(
        CoreErrorCode.BAD_USER_INPUT,
        'product detection is disabled on this server (it runs without a detector)',
        { reason: 'DETECTION_DISABLED' },
      );
    }
    const detection = await this.detect(detector, image, sha256Hex(image), options.detections);
    return {
      width: detection.image.width,
      height: detection.image.height,
      model: detector.info.key,
      objects: this.confident(detector, detection).map(detectedProduct),
      tookMs: performance.now() - started,
    };
  }

  /** One nearest-products query with its verdicts. */
  private async nearest(
    q: {
      merchantId: string;
      model: string;
      metric: Metric;
      first: number;
      threshold: number;
      matchThreshold: number;
      filter: ReturnType<typeof toDbFilter>;
    },
    vector: ArrayLike<number>,
    sha256: string | null,
    exclude: string[],
  ): Promise<SimilarProduct[]> {
    const { metric, threshold, matchThreshold } = q;
    const hits = await this.db.embeddings.nearestProducts({
      merchantId: q.merchantId,
      modelId: q.model,
      vector,
      metric,
      k: q.first,
      threshold,
      ...(q.filter ? { filter: q.filter } : {}),
      ...(exclude.length > 0 ? { excludeProductIds: exclude } : {}),
    });
    return hits.flatMap((hit) => {
      // nearestProducts() has applied the threshold; verdict() is the one place that names it.
      const v = verdict({
        metric,
        score: hit.score,
        distance: hit.distance,
        sameContent: sha256 !== null && hit.image.sha256 === sha256,
        searchThreshold: threshold,
        matchThreshold,
      });
      return v
        ? [
            {
              product: hit.product,
              image: hit.image,
              score: hit.score,
              distance: hit.distance,
              verdict: v,
            },
          ]
        : [];
    });
  }

  /** The query vector of a stored source (an image, or products to leave out). */
  private async storedVector(
    merchantId: string,
    model: string,
    source: QuerySource,
  ): Promise<{ vector: ArrayLike<number>; exclude: string[] }> {
    if (source.imageId != null) {
      const vector = await this.db.embeddings.get(merchantId, model, source.imageId);
      if (!vector) throw notFound(`image ${source.imageId} (with a vector of model ${model})`);
      return { vector, exclude: [] };
    }
    const ids = [...new Set(source.productIds ?? [])];
    if (ids.length === 0) throw badInput('productIds needs at least one product id', 'productIds');
    if (ids.length > MAX_MORE_LIKE_THIS) {
      throw badInput(`productIds takes at most ${MAX_MORE_LIKE_THIS} products`, 'productIds');
    }
    const byProduct = await this.db.embeddings.ofProducts(merchantId, model, ids);
    const missing = ids.filter((id) => !byProduct.has(id));
    if (missing.length > 0) {
      throw notFound(`product ${missing.join(', ')} (with an image indexed by model ${model})`);
    }
    // Each product counts once however many photos it has: average within, then across.
    const vector = meanDirection(ids.map((id) => meanDirection(byProduct.get(id) ?? [])));
    return { vector, exclude: ids };
  }

  /** Do two images show the same product? */
  async matchImages(
    merchantId: string,
    a: Uint8Array,
    b: Uint8Array,
    args: MatchImagesArgs,
    options: SearchOptions = {},
  ): Promise<ImageMatch> {
    const defaults = await this.settings.resolve(merchantId, args.metric ?? undefined);
    const { metric, model } = defaults;
    const threshold = args.threshold ?? defaults.matchThreshold;
    checkThreshold(metric, threshold, 'threshold');
    const [shaA, shaB] = [sha256Hex(a), sha256Hex(b)];
    // Each image is compared by its main product, as a search would see it: a shopper's photo
    // of a shoe on a table against a catalog shot of the shoe, not the table.
    const detector = args.detect === false ? null : this.detector;
    const mainBox = async (bytes: Uint8Array, sha256: string): Promise<Region | null> => {
      if (!detector) return null;
      const detection = await this.detect(detector, bytes, sha256, options.detections);
      const main = this.confident(detector, detection)[0];
      return main
        ? growBox(main.box, detection.image.width, detection.image.height, DETECTION_MARGIN)
        : null;
    };
    const [boxA, boxB] = await Promise.all([mainBox(a, shaA), mainBox(b, shaB)]);
    const [ea, eb] = await Promise.all([
      this.embed(model, a, shaA, boxA, options.memo),
      this.embed(model, b, shaB, boxB, options.memo),
    ]);
    const similarity = measure(metric, ea.vector, eb.vector);
    const isMatch = passesThreshold(metric, similarity, threshold);
    // A match is also similar: with a request threshold looser than the search threshold, the
    // verdict's search threshold loosens with it, so isMatch and verdict never disagree.
    const searchThreshold = isLooserThreshold(metric, threshold, defaults.searchThreshold)
      ? threshold
      : defaults.searchThreshold;
    const v = verdict({
      metric,
      ...similarity,
      sameContent: shaA === shaB,
      searchThreshold,
      matchThreshold: threshold,
    });
    return { ...similarity, isMatch, verdict: v, metric, threshold, model, boxA, boxB };
  }
}
