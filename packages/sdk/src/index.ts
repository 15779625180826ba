// The public API of @lookalike/sdk: a typed client for the Lookalike GraphQL API, its generated
// documents and types, the untyped transport, and webhook verification for receivers.
export {
  createClient,
  importFormatOf,
  isFinished,
  LookalikeClient,
  type ClientOptions,
  type Evaluation,
  type IngestJob,
  type MatchResult,
  type RetryOptions,
  type SearchHit,
  type SearchOptions,
  type SearchResult,
  type WaitOptions,
} from './client.js';
export { LookalikeError, type LookalikeErrorCode } from './errors.js';
export {
  encodeRequest,
  encodeRequestBytes,
  GraphQLClient,
  MAX_VARIABLE_DEPTH,
  type EncodedRequest,
  type GraphQLErrorEntry,
  type GraphQLResponse,
  type UploadFile,
} from './transport.js';
export { packFolder } from './pack.js';
export { toFile, type FileInput, type FileOptions } from './uploads.js';
export { verifyWebhook, WebhookVerificationError, type WebhookEvent } from './webhooks.js';
export * from './generated/graphql.js';
