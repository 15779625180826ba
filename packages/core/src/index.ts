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
export { AccountService, type Viewer } from './accounts/account.service.js';
export type { BootstrapOptions, BootstrapResult } from './accounts/bootstrap.js';
export {
  CatalogService,
  decodeCursor,
  encodeCursor,
  type AddedImage,
  type ImageTarget,
  type ProductFilterInput,
  type ProductInput,
  type ProductPage,
  type ProductPatch,
} from './catalog/catalog.service.js';
export {
  EvaluationService,
  type CatalogEvaluation,
  type EvaluateArgs,
  type Relevance,
} from './evaluation/evaluation.service.js';
export { ImageStore, THUMBNAIL_WIDTHS } from './images/image-store.js';
export { API_KEY_PATTERN, generateApiKey, hashSecret, parseApiKey } from './keys/api-key.js';
export {
  ALL_SCOPES,
  ApiKeyService,
  type ApiKeyInfo,
  type Principal,
} from './keys/api-key.service.js';
export { Backfiller, type BackfillOptions } from './models/backfill.js';
export { loadModels, modelLocation, ModelRegistry } from './models/model-registry.js';
export {
  ModelService,
  type ModelCoverageInfo,
  type ModelInfo,
  type ModelStatus,
  type ModelSwitch,
  type ReindexProgress,
} from './models/model.service.js';
export {
  MAX_MORE_LIKE_THIS,
  SearchService,
  type EmbeddingMemo,
  type ImageMatch,
  type MatchImagesArgs,
  type QuerySource,
  type SearchOptions,
  type SimilarProduct,
  type SimilarProductsArgs,
  type SimilarProductsResult,
} from './search/search.service.js';
export {
  MAX_FIRST,
  SettingsService,
  type EffectiveSettings,
  type SearchSettings,
  type SearchSettingsInput,
} from './settings/settings.service.js';
// The demo catalog: Fashion-MNIST test images rendered as catalog photos and shopper photos.
export {
  FASHION_CATEGORIES,
  readFashionSample,
  type FashionSample,
} from './demo/fashion-sample.js';
export { COLOURS, renderCatalogImage, renderShopperPhoto, type Colour } from './demo/render.js';
export { seedDemoCatalog, type DemoSeedOptions } from './demo/seed.js';
