import { registerEnumType } from 'type-graphql';

export enum SimilarityMetric {
  COSINE = 'COSINE',
  EUCLIDEAN = 'EUCLIDEAN',
}
registerEnumType(SimilarityMetric, {
  name: 'SimilarityMetric',
  description:
    'COSINE: score = cosine similarity in [-1, 1], distance = 1 - score, a threshold is a minimum similarity. ' +
    'EUCLIDEAN: distance = L2 distance, score = 1 / (1 + distance), a threshold is a maximum distance.',
});

export enum MatchVerdict {
  EXACT = 'EXACT',
  MATCH = 'MATCH',
  SIMILAR = 'SIMILAR',
}
registerEnumType(MatchVerdict, {
  name: 'MatchVerdict',
  description:
    'EXACT: the same bytes, or distance ~ 0. MATCH: passes the match threshold (same product). ' +
    'SIMILAR: passes the search threshold only.',
});

export enum Relevance {
  PRODUCT = 'PRODUCT',
  CATEGORY = 'CATEGORY',
}
registerEnumType(Relevance, {
  name: 'Relevance',
  description:
    'What counts as a correct neighbour in a catalog evaluation: another image of the same product, or of the same category.',
});

export enum ApiScope {
  SEARCH = 'SEARCH',
  CATALOG_WRITE = 'CATALOG_WRITE',
  SETTINGS_WRITE = 'SETTINGS_WRITE',
  KEYS_ADMIN = 'KEYS_ADMIN',
  MERCHANTS_ADMIN = 'MERCHANTS_ADMIN',
  EVALUATE = 'EVALUATE',
}
registerEnumType(ApiScope, {
  name: 'ApiScope',
  description:
    'SEARCH: every query (search, catalog and settings reads). CATALOG_WRITE: product and image mutations. ' +
    'SETTINGS_WRITE: updateSearchSettings. KEYS_ADMIN: list, create and revoke API keys. ' +
    'EVALUATE: startCatalogEvaluation and reading evaluations (each runs on a worker and costs the catalog a query per sampled image). ' +
    "MERCHANTS_ADMIN: the platform operator's scope (createMerchant, merchants), held by the install's bootstrap key only.",
});

export enum ImageStatus {
  PENDING = 'PENDING',
  READY = 'READY',
  FAILED = 'FAILED',
}
registerEnumType(ImageStatus, { name: 'ImageStatus' });

export enum ModelStatus {
  ACTIVE = 'ACTIVE',
  BACKFILLING = 'BACKFILLING',
  READY = 'READY',
  RETIRED = 'RETIRED',
  AVAILABLE = 'AVAILABLE',
}
registerEnumType(ModelStatus, {
  name: 'ModelStatus',
  description:
    "A model's role for this merchant. ACTIVE: serves every search (one per merchant). BACKFILLING: being re-indexed in the background. " +
    'READY: holds a vector of every image and is kept in sync (switching to it is instant). RETIRED: its vectors are deleted. ' +
    'AVAILABLE: loaded by the server, not yet used by this merchant.',
});

export enum ImageUploadMode {
  ATTACH = 'ATTACH',
  CREATE = 'CREATE',
  ENSURE = 'ENSURE',
}
registerEnumType(ImageUploadMode, {
  name: 'ImageUploadMode',
  description:
    'ATTACH: the product with this externalId must exist. CREATE: it must not (it is created). ENSURE: attach, or create it.',
});

export const metricOf = {
  [SimilarityMetric.COSINE]: 'cosine',
  [SimilarityMetric.EUCLIDEAN]: 'euclidean',
} as const;

export function toSimilarityMetric(metric: 'cosine' | 'euclidean'): SimilarityMetric {
  return metric === 'cosine' ? SimilarityMetric.COSINE : SimilarityMetric.EUCLIDEAN;
}

export const relevanceOf = {
  [Relevance.PRODUCT]: 'product',
  [Relevance.CATEGORY]: 'category',
} as const;

export const uploadModeOf = {
  [ImageUploadMode.ATTACH]: 'attach',
  [ImageUploadMode.CREATE]: 'create',
  [ImageUploadMode.ENSURE]: 'ensure',
} as const;

export enum ImportFormat {
  CSV = 'CSV',
  JSONL = 'JSONL',
  ZIP = 'ZIP',
}
registerEnumType(ImportFormat, {
  name: 'ImportFormat',
  description:
    'CSV: a header row, imageUrls separated by |. JSONL: one JSON object per line. ZIP: catalog.csv or catalog.jsonl at the root, and image files named by their path in imageUrls.',
});

export enum IngestJobStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(IngestJobStatus, {
  name: 'IngestJobStatus',
  description:
    'COMPLETED: every row was worked (some may have failed: see errors). FAILED: rows were given and none could be imported. CANCELLED: stopped by cancelIngestJob.',
});

export enum EvaluationJobStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  FAILED = 'FAILED',
}
registerEnumType(EvaluationJobStatus, {
  name: 'EvaluationJobStatus',
  description:
    'QUEUED: waiting for a worker. RUNNING: queries being run (see done / total). COMPLETED: results are in. FAILED: see error.',
});

export enum WebhookDeliveryStatus {
  PENDING = 'PENDING',
  DELIVERED = 'DELIVERED',
  FAILED = 'FAILED',
}
registerEnumType(WebhookDeliveryStatus, {
  name: 'WebhookDeliveryStatus',
  description:
    'PENDING: not yet answered with 2xx (attempts retried with backoff). DELIVERED: answered 2xx. FAILED: gave up after the last attempt.',
});
