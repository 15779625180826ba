// The public API of @lookalike/core: the application every door calls (docs/architecture.md).
export {
  createCore,
  DEFAULT_CACHE_TTL_MS,
  openCore,
  type Core,
  type CoreOptions,
  type OpenCoreOptions,
} from './core.js';
export {
  badInput,
  CoreError,
  CoreErrorCode,
  notFound,
  toCoreError,
  type CoreErrorDetails,
} from './errors.js';
export type { Clock } from './cache/ttl-cache.js';
export { DEFAULT_MODELS, parseEnvironment, type EnvironmentSchema } from './config/environment.js';
export { AccountService, type Viewer } from './accounts/account.service.js';
export {
  MerchantService,
  type CreatedMerchant,
  type MerchantPage,
} from './accounts/merchant.service.js';
export { checkAddress, parseAllowList, type AllowList } from './fetch/address-policy.js';
export {
  createSafeFetcher,
  FetchError,
  type FetchErrorCode,
  type FetchedImage,
  type SafeFetcher,
  type SafeFetcherOptions,
} from './fetch/safe-fetch.js';
export {
  ImportService,
  INGEST_QUEUE,
  MAX_ITEMS_PER_CALL,
  type IngestJobPage,
  type RowErrorPage,
} from './imports/import.service.js';
export { DEFAULT_IMPORT_LIMITS, FIELD_LIMITS, type ImportLimits } from './imports/limits.js';
export type { ImportFormat } from './imports/parse.js';
export { startWorker, type Worker, type WorkerOptions } from './jobs/worker.js';
export type { OrphanFilesOptions } from './jobs/orphan-files.js';
export type { PendingImagesOptions } from './jobs/pending-images.js';
export { retryDelayMs, WebhookDispatcher, type DispatcherOptions } from './webhooks/dispatcher.js';
export {
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  WEBHOOK_EVENT_DESCRIPTIONS,
  WEBHOOK_EVENTS,
  WEBHOOK_TEST_EVENT,
  type SignedHeaders,
  type WebhookEventType,
} from './webhooks/signing.js';
export {
  MAX_WEBHOOK_ENDPOINTS,
  WebhookService,
  type DeliveryPage,
  type WebhookEndpoint,
} from './webhooks/webhook.service.js';
export type { BootstrapOptions, BootstrapResult } from './accounts/bootstrap.js';
export {
  CatalogService,
  decodeCursor,
  encodeCursor,
  type AddedImage,
  type AddImageOptions,
  type ImageTarget,
  type PendingImageRepair,
  type ProductFilterInput,
  type ProductInput,
  type ProductPage,
  type ProductPatch,
} from './catalog/catalog.service.js';
export {
  EVALUATE_QUEUE,
  EvaluationService,
  type CatalogEvaluation,
  type EvaluateArgs,
  type EvaluationJob,
  type EvaluationJobArgs,
  type Relevance,
  type StartEvaluationArgs,
} from './evaluation/evaluation.service.js';
export { ImageStore, THUMBNAIL_WIDTHS } from './images/image-store.js';
export { API_KEY_PATTERN, generateApiKey, hashSecret, parseApiKey } from './keys/api-key.js';
export {
  ALL_SCOPES,
  MERCHANT_SCOPES,
  ApiKeyService,
  type ApiKeyInfo,
  type Principal,
} from './keys/api-key.service.js';
export {
  Backfiller,
  type BackfillOptions,
  type ReindexFinisher,
  type ReindexOutcome,
} from './models/backfill.js';
export {
  bundledModels,
  parseModelKey,
  resolveBundled,
  type BundledModel,
} from './models/bundled.js';
export {
  loadModels,
  modelLocation,
  ModelRegistry,
  type LoadModelsOptions,
} from './models/model-registry.js';
export {
  MODEL_UPGRADE_MODES,
  upgradeToDefault,
  type ModelUpgrade,
  type ModelUpgradeMode,
} from './models/upgrade.js';
export {
  ModelService,
  type ModelCoverageInfo,
  type ModelInfo,
  type ModelStatus,
  type ModelSwitch,
  type ReindexProgress,
} from './models/model.service.js';
export {
  loadDetector,
  type DetectedObject,
  type DetectionResult,
  type DetectOptions,
  type Detector,
  type DetectorInfo,
  type LoadDetectorOptions,
} from './search/detector.js';
export {
  DETECTION_MARGIN,
  growBox,
  MAX_MORE_LIKE_THIS,
  MAX_OBJECT_SEARCHES,
  SearchService,
  type DetectedProduct,
  type DetectedProductHits,
  type DetectionMemo,
  type EmbeddingMemo,
  type ImageMatch,
  type MatchImagesArgs,
  type ProductDetection,
  type QuerySource,
  type SearchOptions,
  type SimilarProduct,
  type SimilarProductsArgs,
  type SimilarProductsResult,
  type SearchTimings,
} from './search/search.service.js';
export {
  MAX_FIRST,
  SettingsService,
  type EffectiveSettings,
  type SearchSettings,
  type SearchSettingsInput,
} from './settings/settings.service.js';
// Tests of an installation that sees a new model version arrive (two versions of one id).
export { writeVersionedModels } from './testing/versioned-models.js';
// The demo catalog: Fashion-MNIST test images rendered as catalog photos and shopper photos.
export {
  FASHION_CATEGORIES,
  readFashionSample,
  type FashionSample,
} from './demo/fashion-sample.js';
export {
  COLOURS,
  renderCatalogImage,
  renderScenePhoto,
  renderShopperPhoto,
  type Colour,
  type SceneItem,
  type ScenePhoto,
} from './demo/render.js';
export { seedDemoCatalog, type DemoSeedOptions } from './demo/seed.js';
