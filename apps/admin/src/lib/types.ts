// Shapes of the API's answers as the dashboard asks for them (apps/api/schema.graphql).
// Shared by server code and client components, so they hold no secrets and no functions.

export type SimilarityMetric = 'COSINE' | 'EUCLIDEAN';
export type MatchVerdict = 'EXACT' | 'MATCH' | 'SIMILAR';
export type ApiScope = 'SEARCH' | 'CATALOG_WRITE' | 'SETTINGS_WRITE' | 'KEYS_ADMIN';
export const ALL_SCOPES: readonly ApiScope[] = [
  'SEARCH',
  'CATALOG_WRITE',
  'SETTINGS_WRITE',
  'KEYS_ADMIN',
];
export const METRICS: readonly SimilarityMetric[] = ['COSINE', 'EUCLIDEAN'];

export interface ModelDefault {
  metric: SimilarityMetric;
  searchThreshold: number;
  matchThreshold: number;
}

export interface Viewer {
  merchant: { id: string; name: string };
  apiKey: { id: string; name: string; prefix: string; scopes: ApiScope[] };
  /** The serving model; executionProvider is null when the API does not load it (not in MODELS). */
  model: {
    key: string;
    dims: number;
    executionProvider: string | null;
    defaults: ModelDefault[];
  };
}

export interface ProductImage {
  id: string;
  sha256: string;
  width: number;
  height: number;
  byteSize: number;
  mime: string;
  status: 'READY' | 'PENDING' | 'FAILED';
  createdAt: string;
}

export interface Product {
  id: string;
  externalId: string;
  title: string;
  description: string | null;
  category: string | null;
  labels: Record<string, unknown>;
  price: number | null;
  currency: string | null;
  url: string | null;
  createdAt: string;
  updatedAt: string;
  images: ProductImage[];
}

export interface ProductPage {
  totalCount: number;
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
  edges: { cursor: string; node: Product }[];
}

export interface SearchSettings {
  /** The embedding model these settings are for. */
  model: string;
  metric: SimilarityMetric;
  searchThreshold: number;
  matchThreshold: number;
  topK: number;
  usingModelDefaults: boolean;
  updatedAt: string | null;
}

/**
 * A model's role for the merchant. ACTIVE: serves every search. BACKFILLING: being re-indexed.
 * READY: has a vector of every image and is kept in sync. RETIRED: its vectors are deleted.
 * AVAILABLE: loaded by the API, never used by this merchant.
 */
export type ModelStatus = 'ACTIVE' | 'BACKFILLING' | 'READY' | 'RETIRED' | 'AVAILABLE';

export interface EmbeddingModel {
  key: string;
  dims: number;
  status: ModelStatus;
  /** The API loads it (it is in the API's MODELS): only then can it re-index or serve. */
  loaded: boolean;
  executionProvider: string | null;
  activatedAt: string | null;
  coverage: { total: number; embedded: number; failed: number; fraction: number };
  /** The current or last re-index. */
  reindex: {
    running: boolean;
    startedAt: string;
    finishedAt: string | null;
    done: number;
    remaining: number;
    rate: number | null;
    etaSeconds: number | null;
  } | null;
  /** The manifest's recommended thresholds. */
  defaults: ModelDefault[];
}

/** The answer to activateModel. */
export interface ModelSwitch {
  model: EmbeddingModel;
  previous: string | null;
  /** The new model's coverage when it took over. */
  coverage: number;
  forced: boolean;
}

/** One hit of similarProducts, as the playground and the dry run keep it. */
export interface Hit {
  productId: string;
  externalId: string;
  title: string;
  category: string | null;
  sha256: string;
  score: number;
  distance: number;
  verdict: MatchVerdict;
}

/** A box in a photo, in pixels of the photo as displayed (EXIF orientation applied). */
export interface ImageBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A product the API's detector found in the query photo. */
export interface DetectedProduct {
  /** Tight, as the detector gives it. */
  box: ImageBox;
  /** The detector's confidence, in [0, 1]. */
  score: number;
  category: string | null;
}

/** A detected product with its own nearest products (a few, cosine, loosest threshold). */
export interface DetectedProductHits extends DetectedProduct {
  hits: Hit[];
}

/** What a photo search searched (similarProducts' searchedBox, searchedDetection, objects). */
export interface PhotoSearch {
  /** The part of the photo searched: the main product grown by a margin, the region, or all. */
  searchedBox: ImageBox | null;
  /** The detected product searched; null when the whole photo or a region was. */
  searchedDetection: DetectedProduct | null;
  /** Every detected product (highest score first); null when the search did not ask for them. */
  objects: DetectedProductHits[] | null;
}

/**
 * One query (a photo, or stored products: "more like this") searched under both metrics at the
 * loosest thresholds: every hit up to the API's cap.
 */
export interface SearchAnswer {
  model: string;
  tookMs: Record<SimilarityMetric, number>;
  hits: Record<SimilarityMetric, Hit[]>;
  /** A photo search's boxes; absent for stored sources. */
  photo?: PhotoSearch;
}

export interface PrPoint {
  threshold: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  predictedPositives: number;
  truePositives: number;
}

export interface CatalogEvaluation {
  metric: SimilarityMetric;
  model: string;
  relevance: 'PRODUCT' | 'CATEGORY';
  depth: number;
  pairs: number;
  relevantPairs: number;
  map: number | null;
  mapAtR: number | null;
  tookMs: number;
  recallAtK: { k: number; value: number | null }[];
  prCurve: PrPoint[];
  histogram: { edges: number[]; relevant: number[]; irrelevant: number[] };
  recommended: {
    targetPrecision: number;
    bestF1: PrPoint | null;
    atTargetPrecision: PrPoint | null;
  };
  sample: {
    queries: number;
    population: number;
    sampled: boolean;
    seed: number;
    mapStandardError: number | null;
  };
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiScope[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** What server actions return: data or a displayable error. */
export type ActionResult<T = null> =
  { ok: true; data: T } | { ok: false; error: string; code: string; field?: string };
