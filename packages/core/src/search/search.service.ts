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
import { badInput, notFound } from '../errors.js';
import type { ModelRegistry } from '../models/model-registry.js';
import { MAX_FIRST, type SettingsService } from '../settings/settings.service.js';

/** At most this many products start one "more like this". */
export const MAX_MORE_LIKE_THIS = 20;

/**
 * What a search starts from: exactly one of a photo (with an optional region of it), stored
 * products ("more like this": their vectors averaged), or one stored image.
 */
export interface QuerySource {
  image?: Uint8Array | null;
  region?: Region | null;
  productIds?: readonly string[] | null;
  imageId?: string | null;
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

export interface SearchOptions {
  memo?: EmbeddingMemo;
}

export interface MatchImagesArgs {
  metric?: Metric | null;
  threshold?: number | null;
}

export interface SimilarProduct {
  product: ProductRecord;
  /** The product's image closest to the query. */
  image: ImageRecord;
  score: number;
  distance: number;
  verdict: Verdict;
}

export interface SimilarProductsResult {
  hits: SimilarProduct[];
  metric: Metric;
  threshold: number;
  matchThreshold: number;
  /** The model that answered (the merchant's serving model when the search ran). */
  model: string;
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

/** The mean of vectors, normalised: the direction they share. */
function meanDirection(vectors: readonly ArrayLike<number>[]): Float32Array {
  const sum = new Float64Array(vectors[0]?.length ?? 0);
  for (const v of vectors)
    for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] ?? 0) + (v[i] ?? 0);
  return l2Normalize(sum);
}

/**
 * similarProducts and matchImages: a query vector (from a photo through the serving model, or
 * from stored vectors), one pgvector query that also hydrates the hits, and verdicts. Every
 * search runs on the merchant's serving model as one cache entry says it is: one model per
 * answer, named in the answer.
 */
export class SearchService {
  constructor(
    private readonly db: Db,
    private readonly registry: ModelRegistry,
    private readonly settings: SettingsService,
  ) {}

  /**
   * Embeddings being computed now, by model, content hash and region: concurrent searches of
   * the same photo (from any request) share one. An embedding depends only on the bytes, the
   * region and the model, never on the merchant, so sharing is safe; entries leave when they
   * settle. A caller's memo (SearchOptions) also keeps the settled ones for its unit of work.
   */
  private readonly inFlight: EmbeddingMemo = new Map();

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

  async similarProducts(
    merchantId: string,
    source: QuerySource,
    args: SimilarProductsArgs,
    options: SearchOptions = {},
  ): Promise<SimilarProductsResult> {
    const started = performance.now();
    const given = (['image', 'productIds', 'imageId'] as const).filter((k) => source[k] != null);
    if (given.length !== 1) {
      throw badInput(
        `similarProducts takes exactly one of image, productIds and imageId (got ${given.length === 0 ? 'none' : given.join(', ')})`,
        given[1] ?? 'image',
      );
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

    const { vector, sha256, exclude } = await this.queryVector(
      merchantId,
      model,
      source,
      options.memo,
    );
    const hits = await this.db.embeddings.nearestProducts({
      merchantId,
      modelId: model,
      vector,
      metric,
      k: first,
      threshold,
      ...(filter ? { filter } : {}),
      ...(exclude.length > 0 ? { excludeProductIds: exclude } : {}),
    });
    const result = hits.flatMap((hit) => {
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
    return {
      hits: result,
      metric,
      threshold,
      matchThreshold,
      model,
      tookMs: performance.now() - started,
    };
  }

  /** The query vector of a source, the bytes' hash (for EXACT), and products to leave out. */
  private async queryVector(
    merchantId: string,
    model: string,
    source: QuerySource,
    memo: EmbeddingMemo | undefined,
  ): Promise<{ vector: ArrayLike<number>; sha256: string | null; exclude: string[] }> {
    if (source.image != null) {
      const sha256 = sha256Hex(source.image);
      const { vector } = await this.embed(model, source.image, sha256, source.region, memo);
      return { vector, sha256, exclude: [] };
    }
    if (source.imageId != null) {
      const vector = await this.db.embeddings.get(merchantId, model, source.imageId);
      if (!vector) throw notFound(`image ${source.imageId} (with a vector of model ${model})`);
      return { vector, sha256: null, exclude: [] };
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
    return { vector, sha256: null, exclude: ids };
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
    const [ea, eb] = await Promise.all([
      this.embed(model, a, shaA, null, options.memo),
      this.embed(model, b, shaB, null, options.memo),
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
    return { ...similarity, isMatch, verdict: v, metric, threshold, model };
  }
}
