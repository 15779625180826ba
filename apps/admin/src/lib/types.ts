// Shapes of the API's answers as the dashboard asks for them: derived from the SDK's generated
// operation types (packages/sdk/src/documents, dashboard.graphql among them), so a change of the
// schema or of a document shows here as a type error. What follows them is the dashboard's own
// (UI shapes no query answers as such). Shared by server code and client components, so they
// hold no secrets and no functions; only types come from @lookalike/sdk (its runtime is Node's
// and must not reach the browser bundle).
import type {
  ActivateModelMutation,
  ApiKeyFieldsFragment,
  ApiScope,
  BoxFieldsFragment,
  EmbeddingModelFieldsFragment,
  CatalogEvaluationFieldsFragment,
  EvaluationJobFieldsFragment,
  ImportFormat,
  IngestJobErrorsQuery,
  IngestJobFieldsFragment,
  IngestJobsQuery,
  PrPointFieldsFragment,
  ProductFieldsFragment,
  ProductsQuery,
  SettingsFieldsFragment,
  SimilarBothQuery,
  SimilarityMetric,
  ViewerQuery,
  WebhookDeliveriesQuery,
  WebhookDeliveryFieldsFragment,
  WebhookEndpointFieldsFragment,
  WebhookEventsQuery,
} from '@lookalike/sdk';

export type {
  ApiScope,
  ImportFormat,
  IngestJobStatus,
  MatchVerdict,
  ModelStatus,
  SimilarityMetric,
  WebhookDeliveryStatus,
} from '@lookalike/sdk';

/** The scopes a key made here can have (MERCHANTS_ADMIN is the install's bootstrap key's). */
export type KeyScope = Exclude<ApiScope, 'MERCHANTS_ADMIN'>;
export const ALL_SCOPES: readonly KeyScope[] = [
  'SEARCH',
  'CATALOG_WRITE',
  'SETTINGS_WRITE',
  'KEYS_ADMIN',
  'EVALUATE',
];
export const METRICS: readonly SimilarityMetric[] = ['COSINE', 'EUCLIDEAN'];

/**
 * The merchant, the key and the serving model; the model's executionProvider is null when the
 * API does not load it (not in MODELS).
 */
export type Viewer = ViewerQuery['viewer'];
export type ModelDefault = Viewer['model']['defaults'][number];

export type Product = ProductFieldsFragment;
export type ProductImage = Product['images'][number];
export type ProductPage = ProductsQuery['products'];

/** A model's settings (searchSettings(model:)). */
export type SearchSettings = SettingsFieldsFragment;

/**
 * A model for the merchant: its status (ACTIVE serves every search, BACKFILLING is being
 * re-indexed, READY has a vector of every image and is kept in sync, RETIRED has its vectors
 * deleted, AVAILABLE is loaded by the API and never used), whether the API loads it, its
 * coverage, its current or last re-index, and its manifest's thresholds.
 */
export type EmbeddingModel = EmbeddingModelFieldsFragment;

/** The answer to activateModel. */
export type ModelSwitch = ActivateModelMutation['activateModel'];

export type CatalogEvaluation = CatalogEvaluationFieldsFragment;
/** An evaluation job: queued, running (done / total queries), then its results. */
export type EvaluationJob = EvaluationJobFieldsFragment;
export type PrPoint = PrPointFieldsFragment;

export type ApiKeyInfo = ApiKeyFieldsFragment;

/** A bulk import and its progress. */
export type IngestJob = IngestJobFieldsFragment;
/** A row of an import that failed, with its code and reason. */
export type IngestRowError = IngestJobErrorsQuery['ingestJob']['errors']['nodes'][number];
export type IngestRowErrorPage = IngestJobErrorsQuery['ingestJob']['errors'];
/** A page of the merchant's imports, newest first. */
export type IngestJobPage = IngestJobsQuery['ingestJobs'];
/** The formats importCatalog reads. */
export const IMPORT_FORMATS: readonly ImportFormat[] = ['CSV', 'JSONL', 'ZIP'];

export type WebhookEndpoint = WebhookEndpointFieldsFragment;
/** An event an endpoint can subscribe to, with what it is sent for (the API's list). */
export type WebhookEvent = WebhookEventsQuery['webhookEvents'][number];
export type WebhookDelivery = WebhookDeliveryFieldsFragment;
/** A page of an endpoint's deliveries, newest first. */
export type WebhookDeliveryPage = WebhookDeliveriesQuery['webhookDeliveries'];

/** A box in a photo, in pixels of the photo as displayed (EXIF orientation applied). */
export type ImageBox = BoxFieldsFragment;

/** A product the API's detector found in the query photo (score in [0, 1]). */
export type DetectedProduct = NonNullable<SimilarBothQuery['cosine']['searchedDetection']>;

// The dashboard's own shapes.

/** One hit of similarProducts, as the playground and the dry run keep it. */
export interface Hit {
  productId: string;
  externalId: string;
  title: string;
  category: string | null;
  sha256: string;
  score: number;
  distance: number;
  verdict: SimilarBothQuery['cosine']['hits'][number]['verdict'];
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

/** What server actions return: data or a displayable error. */
export type ActionResult<T = null> =
  { ok: true; data: T } | { ok: false; error: string; code: string; field?: string };
