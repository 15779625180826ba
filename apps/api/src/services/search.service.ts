import { performance } from 'node:perf_hooks';
import type { Db } from '@lookalike/db';
import type { EmbedResult, Embedder } from '@lookalike/inference';
import {
  isLooserThreshold,
  measure,
  passesThreshold,
  validateThreshold,
  verdict,
} from '@lookalike/search';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { badInput } from '../errors.js';
import { readUpload } from '../http/uploads.js';
import type { ProductFilter } from '../inputs/product.input.js';
import type { ImageRegion } from '../inputs/search.input.js';
import { sha256Hex } from '../storage/image-store.js';
import { MatchVerdict, metricOf, SimilarityMetric, toSimilarityMetric } from '../types/enums.js';
import type { ImageMatch, SimilarProductsResult } from '../types/search.type.js';
import { toDbFilter, toProduct, toProductImage } from './catalog.service.js';
import { MAX_FIRST, type SettingsService } from './settings.service.js';

export interface SimilarProductsArgs {
  first?: number | null;
  metric?: SimilarityMetric | null;
  threshold?: number | null;
  filter?: ProductFilter | null;
  region?: ImageRegion | null;
}

export interface MatchImagesArgs {
  metric?: SimilarityMetric | null;
  threshold?: number | null;
}

function checkThreshold(metric: 'cosine' | 'euclidean', value: number, field: string): void {
  const problem = validateThreshold(metric, value, field);
  if (problem) throw badInput(problem.message, field);
}

/** similarProducts and matchImages: upload -> embedding -> pgvector -> verdicts. */
export class SearchService {
  constructor(
    private readonly db: Db,
    private readonly embedder: Embedder,
    private readonly settings: SettingsService,
    private readonly maxUploadBytes: number,
  ) {}

  /**
   * Embeddings being computed now, by content hash and region. One request may ask for the same
   * photo twice (the dashboard searches both metrics in one operation, aliased fields sharing
   * one upload); they share one embedding. An embedding depends only on the bytes, the region
   * and the model, never on the merchant, so sharing is safe; entries leave when they settle.
   */
  private readonly inFlight = new Map<string, Promise<EmbedResult>>();

  private embed(bytes: Uint8Array, sha256: string, region?: ImageRegion | null) {
    const key = region
      ? `${sha256}:${region.x},${region.y},${region.width},${region.height}`
      : sha256;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.embedder.embed(bytes, region ? { region } : {});
      this.inFlight.set(key, pending);
      const forget = () => this.inFlight.delete(key);
      pending.then(forget, forget);
    }
    return pending;
  }

  async similarProducts(
    merchantId: string,
    image: Promise<FileUpload>,
    args: SimilarProductsArgs,
    baseUrl: string,
  ): Promise<SimilarProductsResult> {
    const started = performance.now();
    const defaults = await this.settings.resolve(
      merchantId,
      args.metric ? metricOf[args.metric] : undefined,
    );
    const { metric, matchThreshold } = defaults;
    const first = args.first ?? defaults.topK;
    if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST) {
      throw badInput(`first must be an integer in [1, ${MAX_FIRST}]`, 'first');
    }
    const threshold = args.threshold ?? defaults.searchThreshold;
    checkThreshold(metric, threshold, 'threshold');
    const filter = toDbFilter(args.filter);
    if (args.region) {
      const { x, y, width, height } = args.region;
      if (x < 0 || y < 0 || width < 1 || height < 1) {
        throw badInput('region needs x, y >= 0 and width, height >= 1', 'region');
      }
    }

    const bytes = await readUpload(image, this.maxUploadBytes);
    const sha256 = sha256Hex(bytes);
    const { vector } = await this.embed(bytes, sha256, args.region);
    const hits = await this.db.embeddings.nearest({
      merchantId,
      modelId: this.embedder.info.key,
      vector,
      metric,
      k: first,
      threshold,
      ...(filter ? { filter } : {}),
      distinctProducts: true,
    });
    const [products, images] = await Promise.all([
      this.db.products.getMany(
        merchantId,
        hits.map((h) => h.productId),
      ),
      this.db.images.getMany(
        merchantId,
        hits.map((h) => h.imageId),
      ),
    ]);
    const productById = new Map(products.map((p) => [p.id, p]));
    const imageById = new Map(images.map((i) => [i.id, i]));
    const result = hits.flatMap((hit) => {
      const product = productById.get(hit.productId);
      const img = imageById.get(hit.imageId);
      // A product deleted between the vector query and now is simply left out.
      if (!product || !img) return [];
      // nearest() has applied the threshold; verdict() is the one place that names the result.
      const v = verdict({
        metric,
        score: hit.score,
        distance: hit.distance,
        sameContent: img.sha256 === sha256,
        searchThreshold: threshold,
        matchThreshold,
      });
      if (!v) return [];
      return [
        {
          product: toProduct(product),
          image: toProductImage(img, baseUrl),
          score: hit.score,
          distance: hit.distance,
          verdict: MatchVerdict[v],
        },
      ];
    });
    return {
      hits: result,
      metric: toSimilarityMetric(metric),
      threshold,
      matchThreshold,
      model: this.embedder.info.key,
      tookMs: performance.now() - started,
    };
  }

  /** Do two images show the same product? */
  async matchImages(
    merchantId: string,
    a: Promise<FileUpload>,
    b: Promise<FileUpload>,
    args: MatchImagesArgs,
  ): Promise<ImageMatch> {
    const defaults = await this.settings.resolve(
      merchantId,
      args.metric ? metricOf[args.metric] : undefined,
    );
    const { metric } = defaults;
    const threshold = args.threshold ?? defaults.matchThreshold;
    checkThreshold(metric, threshold, 'threshold');
    const [bytesA, bytesB] = [
      await readUpload(a, this.maxUploadBytes, 'a'),
      await readUpload(b, this.maxUploadBytes, 'b'),
    ];
    const [ea, eb] = await Promise.all([
      this.embed(bytesA, sha256Hex(bytesA)),
      this.embed(bytesB, sha256Hex(bytesB)),
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
      sameContent: sha256Hex(bytesA) === sha256Hex(bytesB),
      searchThreshold,
      matchThreshold: threshold,
    });
    return {
      ...similarity,
      isMatch,
      verdict: v ? MatchVerdict[v] : null,
      metric: toSimilarityMetric(metric),
      threshold,
    };
  }
}
