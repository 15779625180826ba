export {
  createDb,
  IN_MEMORY,
  type CreateDbOptions,
  type Db,
  type Repositories,
  type TransactionOptions,
} from './create-db.js';
export type { SqlDriver, SqlSession } from './driver.js';
export {
  ConflictError,
  DataDirLockedError,
  DbError,
  InvalidArgumentError,
  MigrationError,
  NotFoundError,
} from './errors.js';
export {
  checksum,
  defaultMigrationsDir,
  migrate,
  migrationStatus,
  readMigrations,
  type MigrateResult,
  type MigrationFile,
  type MigrationStatus,
} from './migrate/runner.js';
export {
  API_SCOPES,
  ApiKeyRepository,
  type ApiKeyRecord,
  type ApiScope,
  type CreateApiKeyInput,
} from './repositories/api-key.repository.js';
export {
  EmbeddingModelRepository,
  MAX_HALFVEC_INDEX_DIMS,
  MAX_VECTOR_INDEX_DIMS,
  type EmbeddingModelRecord,
} from './repositories/embedding-model.repository.js';
export {
  MAINTAINED_STATUSES,
  MerchantModelRepository,
  type MerchantModelRecord,
  type MerchantModelStatus,
  type ModelCoverage,
  type ServingModel,
} from './repositories/merchant-model.repository.js';
export {
  EmbeddingRepository,
  HNSW_EF_SEARCH,
  MAX_NEAREST_K,
  validateThreshold,
  type EmbeddingItem,
  type Metric,
  type NearestArgs,
  type NearestHit,
  type NearestProductHit,
  type NearestStrategy,
} from './repositories/embedding.repository.js';
export {
  ImageRepository,
  type AddImageInput,
  type AddImageResult,
  type ImageRecord,
  type ImageStatus,
} from './repositories/image.repository.js';
export {
  IngestRepository,
  type FinishedRow,
  type IngestJobRecord,
  type IngestJobStatus,
  type IngestRowRecord,
  type IngestRowStatus,
  type NewIngestRow,
  type RowOutcome,
} from './repositories/ingest.repository.js';
export {
  EvaluationRepository,
  type EvaluationJobRecord,
  type EvaluationJobStatus,
} from './repositories/evaluation.repository.js';
export {
  WebhookRepository,
  type ClaimedDelivery,
  type WebhookDeliveryRecord,
  type WebhookDeliveryStatus,
  type WebhookEndpointRecord,
} from './repositories/webhook.repository.js';
export {
  createJobQueue,
  type BatchFailures,
  type JobQueue,
  type JobQueueOptions,
  type QueueDefinition,
  type QueueJob,
  type WorkOptions,
} from './queue/job-queue.js';
export { newId } from './repositories/ids.js';
export { MerchantRepository, type MerchantRecord } from './repositories/merchant.repository.js';
export type { JsonValue, Labels, ProductFilter } from './repositories/product-filter.js';
export {
  MAX_PAGE_SIZE,
  ProductRepository,
  type ListProductsArgs,
  type ProductInput,
  type ProductPage,
  type ProductPatch,
  type ProductRecord,
} from './repositories/product.repository.js';
export {
  DEFAULT_SEARCH_SETTINGS,
  MAX_TOP_K,
  SettingsRepository,
  type SearchSettingsPatch,
  type SearchSettingsRecord,
} from './repositories/settings.repository.js';

// Test and benchmark support: throwaway databases on each engine, bulk seeding, reference maths.
export { seedCatalog, type SeededItem } from './testing/catalog.js';
export {
  createScratchDatabase,
  testEngines,
  type EngineName,
  type TestDatabase,
  type TestEngine,
} from './testing/engines.js';
export {
  bruteForceNearest,
  clusteredVectors,
  distance,
  gaussian,
  seededRandom,
  type ClusteredVectors,
} from './testing/vectors.js';
