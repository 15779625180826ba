import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stat } from 'node:fs/promises';
import { LookalikeError, errorFromResponse } from './errors.js';
import { packFolder } from './pack.js';
import {
  ActivateModelDocument,
  ApiKeysDocument,
  CancelIngestJobDocument,
  CatalogEvaluationDocument,
  CatalogEvaluationsDocument,
  CreateApiKeyDocument,
  CreateWebhookEndpointDocument,
  DeleteWebhookEndpointDocument,
  EmbeddingModelsDocument,
  ImportCatalogDocument,
  ImportProductsDocument,
  IngestJobDocument,
  IngestJobErrorsDocument,
  IngestJobsDocument,
  MatchImagesDocument,
  MoreLikeThisDocument,
  RevokeApiKeyDocument,
  SendTestWebhookDocument,
  SimilarProductsDocument,
  StartCatalogEvaluationDocument,
  StartReindexDocument,
  ViewerDocument,
  WebhookDeliveriesDocument,
  WebhookEndpointsDocument,
  WebhookEventsDocument,
  type ApiScope,
  type ImportFormat,
  type ImportItemInput,
  type IngestJobFieldsFragment,
  type MatchImagesQuery,
  type MatchImagesQueryVariables,
  type MoreLikeThisQueryVariables,
  type SimilarProductsQuery,
  type SimilarProductsQueryVariables,
  type CatalogEvaluationQuery,
  type StartCatalogEvaluationMutationVariables,
  type TypedDocumentString,
} from './generated/graphql.js';
import { encodeRequest, readResponse, type GraphQLResponse } from './transport.js';
import { toFile, type FileInput, type FileOptions } from './uploads.js';

export interface RetryOptions {
  /** Attempts in all for one call, the first included (default 4; 1 turns retrying off). */
  attempts?: number;
  /** The longest Retry-After the client waits for; a longer one is thrown (default 60 s). */
  maxWaitSeconds?: number;
}

export interface ClientOptions {
  /** The API's base URL, e.g. http://localhost:4000 (the client posts to /graphql under it). */
  url: string;
  /** An API key (`lk_…`). */
  apiKey?: string;
  /** fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Retrying of RATE_LIMITED answers, which wait for the answer's Retry-After. */
  retry?: RetryOptions;
  /** Called before each wait for a retry. */
  onRetry?: (info: { attempt: number; waitSeconds: number; error: LookalikeError }) => void;
}

/** A search's result, as the SDK's search document selects it. */
export type SearchResult = SimilarProductsQuery['similarProducts'];
export type SearchHit = SearchResult['hits'][number];
export type MatchResult = MatchImagesQuery['matchImages'];
export type IngestJob = IngestJobFieldsFragment;
/** An evaluation with its results (empty until COMPLETED). */
export type Evaluation = CatalogEvaluationQuery['catalogEvaluation'];

export type SearchOptions = Omit<SimilarProductsQueryVariables, 'image' | 'imageUrl'> & {
  /** How to send `image` (its name, type). */
  file?: FileOptions;
};

export interface WaitOptions {
  /** Called after every poll with the job as it stands. */
  onProgress?: (job: IngestJob) => void;
  /** Time between polls (default 1000 ms). */
  intervalMs?: number;
  /** Give up after this long (default: never). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const FINISHED = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/** Whether a job has finished (completed, failed or cancelled). */
export function isFinished(job: Pick<IngestJob, 'status'>): boolean {
  return FINISHED.has(job.status);
}

async function isDirectory(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isDirectory();
  } catch {
    return false;
  }
}

/** The import format a file name implies: .csv, .jsonl / .ndjson, .zip. */
export function importFormatOf(name: string): ImportFormat | undefined {
  const ext = path.extname(name).toLowerCase();
  if (ext === '.csv') return 'CSV';
  if (ext === '.jsonl' || ext === '.ndjson') return 'JSONL';
  if (ext === '.zip') return 'ZIP';
  return undefined;
}

/**
 * The typed client: every method sends one of the SDK's generated documents (or any typed
 * document given to `request`), answers its data, and throws LookalikeError with the API's
 * code. RATE_LIMITED answers are retried after their Retry-After.
 */
export class LookalikeClient {
  readonly url: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** Send one operation: its data, or a LookalikeError. Blob values go as file parts. */
  async request<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables> | string,
    ...[variables, init]: TVariables extends Record<string, never>
      ? [variables?: TVariables, init?: { signal?: AbortSignal }]
      : [variables: TVariables, init?: { signal?: AbortSignal }]
  ): Promise<TResult> {
    const attempts = Math.max(1, this.options.retry?.attempts ?? 4);
    const maxWait = this.options.retry?.maxWaitSeconds ?? 60;
    for (let attempt = 1; ; attempt++) {
      const answer = await this.send<TResult>(document.toString(), variables ?? {}, init?.signal);
      if (answer.errors?.length) {
        const error = errorFromResponse(answer.status, answer.headers, answer.errors);
        const wait = error.retryAfter ?? 1;
        if (error.code !== 'RATE_LIMITED' || attempt >= attempts || wait > maxWait) throw error;
        this.options.onRetry?.({ attempt, waitSeconds: wait, error });
        await sleep(wait * 1000, undefined, init?.signal ? { signal: init.signal } : {});
        continue;
      }
      if (answer.data == null)
        throw new LookalikeError(
          `The API answered ${answer.status} without data`,
          'BAD_RESPONSE',
          answer.status,
        );
      return answer.data;
    }
  }

  private async send<T>(
    query: string,
    variables: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<GraphQLResponse<T>> {
    const encoded = encodeRequest(query, variables);
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.url}/graphql`, {
        method: 'POST',
        headers: {
          ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {}),
          ...encoded.headers,
        },
        body: encoded.body,
        ...(signal ? { signal } : {}),
      });
    } catch (cause) {
      if (signal?.aborted) throw cause;
      throw new LookalikeError(
        `The Lookalike API at ${this.url} is not reachable. Is it running?`,
        'API_UNREACHABLE',
        0,
        { cause },
      );
    }
    const answer = await readResponse<T>(res);
    if (!answer.errors?.length && answer.data == null && !res.ok) {
      return { ...answer, errors: [{ message: `The API answered ${res.status}` }] };
    }
    return answer;
  }

  // --- search ---

  /** Products that look like this photo (a path, URL, bytes, Blob or stream), nearest first. */
  async search(image: FileInput, options: SearchOptions = {}): Promise<SearchResult> {
    const { file, ...vars } = options;
    const upload = await toFile(image, { fetch: this.fetchImpl, ...file });
    return (await this.request(SimilarProductsDocument, { ...vars, image: upload }))
      .similarProducts;
  }

  /** Products that look like the photo at this URL, fetched by the server (public addresses). */
  async searchUrl(
    imageUrl: string,
    options: Omit<SearchOptions, 'file'> = {},
  ): Promise<SearchResult> {
    return (await this.request(SimilarProductsDocument, { ...options, imageUrl })).similarProducts;
  }

  /** More like these stored products (their vectors averaged) or this stored image. */
  async moreLikeThis(variables: MoreLikeThisQueryVariables): Promise<SearchResult> {
    return (await this.request(MoreLikeThisDocument, variables)).similarProducts;
  }

  /** Do two images show the same product? */
  async match(
    a: FileInput,
    b: FileInput,
    options: Omit<MatchImagesQueryVariables, 'a' | 'b'> = {},
  ): Promise<MatchResult> {
    const [fa, fb] = await Promise.all([
      toFile(a, { fetch: this.fetchImpl }),
      toFile(b, { fetch: this.fetchImpl }),
    ]);
    return (await this.request(MatchImagesDocument, { ...options, a: fa, b: fb })).matchImages;
  }

  // --- catalog sync ---

  /**
   * Import a catalog file (CSV, JSONL or ZIP; the format follows the name unless given), or a
   * folder with catalog.csv / catalog.jsonl and its images (sent as a ZIP). The
   * API checks the whole file and answers the job at once; `waitForJob` follows it.
   */
  async importCatalog(
    file: FileInput,
    options: { format?: ImportFormat; name?: string } = {},
  ): Promise<IngestJob> {
    if (typeof file === 'string' && (await isDirectory(file))) {
      const zip = await packFolder(file);
      return this.importCatalog(zip, {
        format: 'ZIP',
        name: options.name ?? `${path.basename(path.resolve(file))}.zip`,
      });
    }
    const name = options.name ?? (typeof file === 'string' ? path.basename(file) : undefined);
    const format = options.format ?? (name ? importFormatOf(name) : undefined);
    if (!format)
      throw new LookalikeError(
        `Cannot tell the format of ${name ?? 'this file'}: name it .csv, .jsonl or .zip, or pass format`,
        'BAD_USER_INPUT',
        0,
      );
    const upload = await toFile(file, { fetch: this.fetchImpl, ...(name ? { name } : {}) });
    return (await this.request(ImportCatalogDocument, { file: upload, format })).importCatalog;
  }

  /** Import products given as JSON (at most 1,000 a call). */
  async importProducts(items: ImportItemInput[]): Promise<IngestJob> {
    return (await this.request(ImportProductsDocument, { items })).importProducts;
  }

  async job(id: string): Promise<IngestJob> {
    return (await this.request(IngestJobDocument, { id })).ingestJob;
  }

  async jobs(options: { first?: number; after?: string } = {}) {
    return (await this.request(IngestJobsDocument, options)).ingestJobs;
  }

  async cancelJob(id: string): Promise<IngestJob> {
    return (await this.request(CancelIngestJobDocument, { id })).cancelIngestJob;
  }

  /** Every failed row of a job, page after page. */
  async *jobErrors(id: string, pageSize = 500) {
    let after: string | null | undefined;
    for (;;) {
      const page = (
        await this.request(IngestJobErrorsDocument, {
          id,
          first: pageSize,
          ...(after ? { after } : {}),
        })
      ).ingestJob.errors;
      yield* page.nodes;
      if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return;
      after = page.pageInfo.endCursor;
    }
  }

  /** Poll a job until it has finished; its last state. */
  async waitForJob(id: string, options: WaitOptions = {}): Promise<IngestJob> {
    return this.pollUntil(
      `Job ${id}`,
      async (init) => (await this.request(IngestJobDocument, { id }, init)).ingestJob,
      isFinished,
      options,
    );
  }

  /**
   * Fetch `what` until it is `done`, every `intervalMs` (default 1 s), telling `onProgress`
   * each time; TIMEOUT past `timeoutMs`, and stopped by `signal`.
   */
  private async pollUntil<T extends { status: string }>(
    what: string,
    fetchOnce: (init?: { signal?: AbortSignal }) => Promise<T>,
    done: (value: T) => boolean,
    options: Omit<WaitOptions, 'onProgress'> & { onProgress?: (value: T) => void },
  ): Promise<T> {
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    const init = options.signal ? { signal: options.signal } : undefined;
    for (;;) {
      const value = await fetchOnce(init);
      options.onProgress?.(value);
      if (done(value)) return value;
      if (Date.now() >= deadline)
        throw new LookalikeError(
          `${what} has not finished after ${options.timeoutMs} ms (${value.status})`,
          'TIMEOUT',
          0,
        );
      await sleep(options.intervalMs ?? 1000, undefined, init ?? {});
    }
  }

  // --- evaluations ---

  /** Queue an evaluation of the catalog (one at a time per merchant; a second is CONFLICT). */
  async startEvaluation(options: StartCatalogEvaluationMutationVariables = {}) {
    return (await this.request(StartCatalogEvaluationDocument, options)).startCatalogEvaluation;
  }

  async evaluation(id: string): Promise<Evaluation> {
    return (await this.request(CatalogEvaluationDocument, { id })).catalogEvaluation;
  }

  async evaluations(options: { first?: number; after?: string } = {}) {
    return (await this.request(CatalogEvaluationsDocument, options)).catalogEvaluations;
  }

  /** Poll an evaluation until it is COMPLETED or FAILED; its results come with it. */
  async waitForEvaluation(
    id: string,
    options: Omit<WaitOptions, 'onProgress'> & { onProgress?: (e: Evaluation) => void } = {},
  ): Promise<Evaluation> {
    return this.pollUntil(
      `Evaluation ${id}`,
      async (init) =>
        (await this.request(CatalogEvaluationDocument, { id }, init)).catalogEvaluation,
      (e) => e.status === 'COMPLETED' || e.status === 'FAILED',
      options,
    );
  }

  // --- models ---

  async models() {
    return (await this.request(EmbeddingModelsDocument)).embeddingModels;
  }

  async reindex(model: string, options: { activateWhenReady?: boolean } = {}) {
    return (
      await this.request(StartReindexDocument, {
        model,
        activateWhenReady: options.activateWhenReady ?? false,
      })
    ).startReindex;
  }

  async activateModel(model: string, options: { force?: boolean } = {}) {
    return (await this.request(ActivateModelDocument, { model, force: options.force ?? false }))
      .activateModel;
  }

  // --- keys ---

  async viewer() {
    return (await this.request(ViewerDocument)).viewer;
  }

  async apiKeys() {
    return (await this.request(ApiKeysDocument)).apiKeys;
  }

  async createApiKey(name: string, scopes: ApiScope[]) {
    return (await this.request(CreateApiKeyDocument, { name, scopes })).createApiKey;
  }

  async revokeApiKey(id: string): Promise<boolean> {
    return (await this.request(RevokeApiKeyDocument, { id })).revokeApiKey;
  }

  // --- webhooks ---

  /** The events an endpoint can subscribe to, each with what it is sent for. */
  async webhookEvents() {
    return (await this.request(WebhookEventsDocument)).webhookEvents;
  }

  async webhookEndpoints() {
    return (await this.request(WebhookEndpointsDocument)).webhookEndpoints;
  }

  async createWebhookEndpoint(url: string, events: string[]) {
    return (await this.request(CreateWebhookEndpointDocument, { url, events }))
      .createWebhookEndpoint;
  }

  async deleteWebhookEndpoint(id: string): Promise<boolean> {
    return (await this.request(DeleteWebhookEndpointDocument, { id })).deleteWebhookEndpoint;
  }

  async webhookDeliveries(endpointId: string, options: { first?: number; after?: string } = {}) {
    return (await this.request(WebhookDeliveriesDocument, { endpointId, ...options }))
      .webhookDeliveries;
  }

  /** Queue a `webhook.test` event for this endpoint alone. */
  async sendTestWebhook(endpointId: string) {
    return (await this.request(SendTestWebhookDocument, { endpointId })).sendTestWebhook;
  }
}

/** A client for one API and key. */
export function createClient(options: ClientOptions): LookalikeClient {
  return new LookalikeClient(options);
}
