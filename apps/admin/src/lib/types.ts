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
  model: { key: string; dims: number; executionProvider: string; defaults: ModelDefault[] };
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
  metric: SimilarityMetric;
  searchThreshold: number;
  matchThreshold: number;
  topK: number;
  usingModelDefaults: boolean;
  updatedAt: string | null;
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

/** One photo searched under both metrics at the loosest thresholds: every hit up to the API's cap. */
export interface SearchAnswer {
  model: string;
  tookMs: Record<SimilarityMetric, number>;
  hits: Record<SimilarityMetric, Hit[]>;
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
