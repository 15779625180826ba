// Core records -> GraphQL objects: enum spellings, image URLs. Nothing else happens here.
import type {
  ApiKeyInfo,
  CatalogEvaluation as CoreEvaluation,
  DetectedProduct as CoreDetected,
  EvaluationJob as CoreEvaluationJob,
  ModelInfo,
  ProductDetection,
  SimilarProduct as CoreHit,
  SearchSettings as CoreSettings,
  SimilarProductsResult as CoreSimilar,
  Viewer as CoreViewer,
} from '@lookalike/core';
import type { ImageRecord, ProductRecord } from '@lookalike/db';
import type { MetricThresholds, Region } from '@lookalike/inference';
import type { ApiKey, Viewer } from '../types/api-key.type.js';
import {
  ApiScope,
  EvaluationJobStatus,
  ImageStatus,
  MatchVerdict,
  ModelStatus,
  Relevance,
  toSimilarityMetric,
} from '../types/enums.js';
import type { CatalogEvaluation, EvaluationJob } from '../types/evaluation.type.js';
import type { EmbeddingModel } from '../types/model.type.js';
import type { Product, ProductImage } from '../types/product.type.js';
import type {
  DetectedProduct,
  Detection,
  ImageBox,
  SimilarProduct,
  SimilarProductsResult,
} from '../types/search.type.js';
import type { SearchSettings } from '../types/settings.type.js';

export function toProduct(record: ProductRecord): Product {
  return {
    id: record.id,
    externalId: record.externalId,
    title: record.title,
    description: record.description,
    category: record.category,
    labels: record.labels,
    price: record.price,
    currency: record.currency,
    url: record.url,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function toProductImage(record: ImageRecord, baseUrl: string): ProductImage {
  return {
    id: record.id,
    productId: record.productId,
    sha256: record.sha256,
    mime: record.mime,
    width: record.width,
    height: record.height,
    byteSize: record.byteSize,
    status: ImageStatus[record.status],
    url: `${baseUrl}/images/${record.sha256}`,
    createdAt: record.createdAt,
  };
}

export function toApiKey(key: ApiKeyInfo): ApiKey {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes.map((s) => ApiScope[s]),
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    revokedAt: key.revokedAt,
  };
}

function toDefaults(d: { cosine: MetricThresholds; euclidean: MetricThresholds }) {
  return (['cosine', 'euclidean'] as const).map((m) => ({
    metric: toSimilarityMetric(m),
    ...d[m],
  }));
}

export function toViewer(v: CoreViewer): Viewer {
  return {
    merchant: v.merchant,
    apiKey: toApiKey(v.apiKey),
    model: { ...v.model, defaults: toDefaults(v.model.defaults) },
  };
}

function toSimilarProduct(h: CoreHit, baseUrl: string): SimilarProduct {
  return {
    product: toProduct(h.product),
    image: toProductImage(h.image, baseUrl),
    score: h.score,
    distance: h.distance,
    verdict: MatchVerdict[h.verdict],
  };
}

const toBox = (b: Region): ImageBox => ({ x: b.x, y: b.y, width: b.width, height: b.height });

export function toDetectedProduct(d: CoreDetected): DetectedProduct {
  return { box: toBox(d.box), score: d.score, category: d.category };
}

export function toSimilarProducts(r: CoreSimilar, baseUrl: string): SimilarProductsResult {
  return {
    hits: r.hits.map((h) => toSimilarProduct(h, baseUrl)),
    metric: toSimilarityMetric(r.metric),
    threshold: r.threshold,
    matchThreshold: r.matchThreshold,
    model: r.model,
    tookMs: r.tookMs,
    timings: { ...r.timings },
    searchedBox: r.searchedBox ? toBox(r.searchedBox) : null,
    searchedDetection: r.searchedDetection ? toDetectedProduct(r.searchedDetection) : null,
    objects: r.objects.map((o) => ({
      box: toBox(o.box),
      score: o.score,
      category: o.category,
      hits: o.hits.map((h) => toSimilarProduct(h, baseUrl)),
    })),
  };
}

export function toDetection(d: ProductDetection): Detection {
  return {
    width: d.width,
    height: d.height,
    model: d.model,
    objects: d.objects.map(toDetectedProduct),
    tookMs: d.tookMs,
  };
}

export function toSearchSettings(s: CoreSettings): SearchSettings {
  return {
    model: s.model,
    metric: toSimilarityMetric(s.metric),
    searchThreshold: s.searchThreshold,
    matchThreshold: s.matchThreshold,
    topK: s.topK,
    usingModelDefaults: s.usingModelDefaults,
    updatedAt: s.updatedAt,
  };
}

export function toEvaluation(e: CoreEvaluation): CatalogEvaluation {
  return {
    metric: toSimilarityMetric(e.metric),
    relevance: e.relevance === 'product' ? Relevance.PRODUCT : Relevance.CATEGORY,
    model: e.model,
    depth: e.depth,
    sample: e.sample,
    pairs: e.pairs,
    relevantPairs: e.relevantPairs,
    map: e.map,
    mapAtR: e.mapAtR,
    mapAtK: [...e.mapAtK],
    recallAtK: [...e.recallAtK],
    prCurve: [...e.prCurve],
    histogram: e.histogram,
    recommended: e.recommended,
    tookMs: e.tookMs,
  };
}

export function toEvaluationJob(j: CoreEvaluationJob): EvaluationJob {
  return {
    id: j.id,
    status: EvaluationJobStatus[j.status],
    model: j.args.model,
    metrics: j.args.metrics.map(toSimilarityMetric),
    relevance: j.args.relevance === 'product' ? Relevance.PRODUCT : Relevance.CATEGORY,
    sampleSize: j.args.sampleSize,
    depth: j.args.depth,
    done: j.done,
    total: j.total,
    results: j.results.map(toEvaluation),
    error: j.error,
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
  };
}

export function toModel(m: ModelInfo): EmbeddingModel {
  return {
    key: m.key,
    dims: m.dims,
    status: ModelStatus[m.status],
    loaded: m.loaded,
    executionProvider: m.executionProvider,
    activatedAt: m.activatedAt,
    activateWhenReady: m.activateWhenReady,
    coverage: m.coverage,
    reindex: m.reindex,
    defaults: toDefaults(m.defaults),
    defaultsMeasured: m.defaultsMeasured,
  };
}
