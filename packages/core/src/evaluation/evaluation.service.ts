import { performance } from 'node:perf_hooks';
import type { Db, EvaluationJobRecord, EvaluationJobStatus, JobQueue, Metric } from '@lookalike/db';
import {
  evaluateRetrieval,
  seededRandom,
  type EvaluationQuery,
  type MetricAtK,
  type PrPoint,
  type ThresholdRecommendations,
} from '@lookalike/search';
import { badInput, conflict, notFound } from '../errors.js';
import type { SettingsService } from '../settings/settings.service.js';

/** What counts as a correct neighbour: another image of the same product, or of its category. */
export type Relevance = 'product' | 'category';

export interface EvaluateArgs {
  /** Default: the merchant's serving model; another kept model can be measured before a switch. */
  model?: string | null;
  metric?: Metric | null;
  relevance?: Relevance | null;
  sampleSize?: number | null;
  depth?: number | null;
  targetPrecision?: number | null;
  seed?: number | null;
}

/** The queue evaluation jobs go through to a worker. */
export const EVALUATE_QUEUE = 'evaluate-catalog';
/** One attempt, then one retry; an attempt still running after 15 minutes is failed. */
export const EVALUATE_QUEUE_DEFINITION = {
  retryLimit: 1,
  retryDelaySeconds: 5,
  expireInSeconds: 900,
};

export interface EvaluationJobArgs {
  model: string;
  metrics: Metric[];
  relevance: Relevance;
  sampleSize: number;
  depth: number;
  targetPrecision: number;
  seed: number;
}

/** An evaluation job as its merchant sees it. */
export interface EvaluationJob {
  id: string;
  status: EvaluationJobStatus;
  args: EvaluationJobArgs;
  /** Nearest-neighbour queries run, of `total` (sampled images x metrics). */
  done: number;
  total: number;
  /** One per metric asked, in that order, once COMPLETED. */
  results: CatalogEvaluation[];
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface StartEvaluationArgs extends Omit<EvaluateArgs, 'metric'> {
  /** Default: the merchant's metric for the model; at most both. */
  metrics?: Metric[] | null;
}

function toJob(record: EvaluationJobRecord): EvaluationJob {
  return {
    id: record.id,
    status: record.status,
    args: record.args as EvaluationJobArgs,
    done: record.done,
    total: record.total,
    results: (record.result as CatalogEvaluation[] | null) ?? [],
    error: record.error,
    createdAt: record.createdAt,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
  };
}

/** Progress is written at most this often while a job runs. */
const PROGRESS_EVERY_MS = 500;

export const DEFAULT_SAMPLE = 200;
export const MAX_SAMPLE = 2000;
export const DEFAULT_DEPTH = 50;
export const MAX_DEPTH = 200;

function checkArgs(sampleSize: number, depth: number, seed: number): void {
  if (!Number.isInteger(sampleSize) || sampleSize < 1 || sampleSize > MAX_SAMPLE) {
    throw badInput(`sampleSize must be an integer in [1, ${MAX_SAMPLE}]`, 'sampleSize');
  }
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) {
    throw badInput(`depth must be an integer in [1, ${MAX_DEPTH}]`, 'depth');
  }
  if (!Number.isInteger(seed)) throw badInput('seed must be an integer', 'seed');
}

/** Fisher–Yates with a seeded generator: the same seed samples the same queries. */
function sample<T>(items: T[], n: number, seed: number): T[] {
  const copy = [...items];
  const random = seededRandom(seed);
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}

export interface CatalogEvaluation {
  metric: Metric;
  relevance: Relevance;
  model: string;
  depth: number;
  sample: {
    sampled: boolean;
    population: number;
    queries: number;
    seed: number;
    mapStandardError: number | null;
  };
  pairs: number;
  relevantPairs: number;
  map: number | null;
  mapAtR: number | null;
  mapAtK: MetricAtK[];
  recallAtK: MetricAtK[];
  prCurve: PrPoint[];
  histogram: { edges: number[]; relevant: number[]; irrelevant: number[] };
  recommended: ThresholdRecommendations;
  tookMs: number;
}

/**
 * The catalog measures itself without extra labels: each sampled image queries the rest of the
 * catalog; relevant neighbours are the other images of its product (or of its category). The
 * maths is @lookalike/search's evaluateRetrieval.
 */
export class EvaluationService {
  constructor(
    private readonly db: Db,
    private readonly settings: SettingsService,
    private readonly queue: () => Promise<JobQueue>,
  ) {}

  /**
   * Queue an evaluation of the catalog for a worker: one at a time per merchant (a second while
   * one is queued or running is CONFLICT, naming it). The arguments are checked here, so a job
   * that is queued can run.
   */
  async start(merchantId: string, args: StartEvaluationArgs): Promise<EvaluationJob> {
    const sampleSize = args.sampleSize ?? DEFAULT_SAMPLE;
    const depth = args.depth ?? DEFAULT_DEPTH;
    const seed = args.seed ?? 1;
    const targetPrecision = args.targetPrecision ?? 0.9;
    checkArgs(sampleSize, depth, seed);
    if (!(targetPrecision > 0 && targetPrecision <= 1)) {
      throw badInput('targetPrecision must be in (0, 1]', 'targetPrecision');
    }
    const asked = args.metrics ?? [];
    if (new Set(asked).size !== asked.length) {
      throw badInput('metrics must not repeat a metric', 'metrics');
    }
    const resolved = args.model
      ? await this.settings.resolveFor(merchantId, args.model, asked[0])
      : await this.settings.resolve(merchantId, asked[0]);
    const job: EvaluationJobArgs = {
      model: resolved.model,
      metrics: asked.length > 0 ? [...asked] : [resolved.metric],
      relevance: args.relevance ?? 'product',
      sampleSize,
      depth,
      targetPrecision,
      seed,
    };
    const created = await this.db.withLock(`evaluation:${merchantId}`, () =>
      this.db.evaluations.create(merchantId, job, sampleSize * job.metrics.length),
    );
    if (!created.job) {
      throw conflict(
        `An evaluation of this catalog is already queued or running (${created.unfinished}); wait for it to finish`,
        { field: 'evaluation', reason: created.unfinished },
      );
    }
    const queue = await this.queue();
    await queue.send(EVALUATE_QUEUE, [
      { data: { evaluationId: created.job.id }, key: created.job.id },
    ]);
    return toJob(created.job);
  }

  async get(merchantId: string, id: string): Promise<EvaluationJob> {
    const job = await this.db.evaluations.get(merchantId, id);
    if (!job) throw notFound(`evaluation ${id}`);
    return toJob(job);
  }

  async list(
    merchantId: string,
    { first = 20, after }: { first?: number | null; after?: string | null } = {},
  ): Promise<{ items: EvaluationJob[]; hasNextPage: boolean }> {
    if (!Number.isInteger(first) || (first ?? 0) < 1 || (first ?? 0) > 100) {
      throw badInput('first must be an integer in [1, 100]', 'first');
    }
    const page = await this.db.evaluations.list(merchantId, {
      first: first ?? 20,
      ...(after ? { after } : {}),
    });
    return { items: page.items.map(toJob), hasNextPage: page.hasNextPage };
  }

  /**
   * Run a queued job (a worker's side): every metric on the same sample, progress written as
   * it goes, the results or the error recorded. Between queries it yields to the event loop, so
   * on the embedded engine (the worker inside the API process) requests keep being answered.
   */
  async run(evaluationId: string): Promise<void> {
    const record = await this.db.evaluations.start(evaluationId);
    if (!record) return;
    const job = toJob(record);
    const { args } = job;
    try {
      const results: CatalogEvaluation[] = [];
      let lastWrite = 0;
      for (const [m, metric] of args.metrics.entries()) {
        results.push(
          await this.evaluate(
            record.merchantId,
            { ...args, metric },
            {
              yieldEvery: true,
              onProgress: async (done, queries) => {
                const now = performance.now();
                if (now - lastWrite < PROGRESS_EVERY_MS) return;
                lastWrite = now;
                await this.db.evaluations.progress(
                  evaluationId,
                  m * queries + done,
                  queries * args.metrics.length,
                );
              },
            },
          ),
        );
      }
      const queries = (results[0]?.sample.queries ?? 0) * args.metrics.length;
      await this.db.evaluations.complete(evaluationId, results, queries);
    } catch (error) {
      await this.db.evaluations.fail(
        evaluationId,
        error instanceof Error ? error.message : String(error),
      );
    }
  }

  /**
   * The evaluation itself, here and now (a job's worker runs it; tests and tools call it
   * directly): each sampled image queries the catalog.
   */
  async evaluate(
    merchantId: string,
    args: EvaluateArgs,
    {
      onProgress,
      yieldEvery = false,
    }: {
      /** After each query: the queries done and the queries in all. */
      onProgress?: (done: number, queries: number) => Promise<void>;
      /** Yield to the event loop between queries. */
      yieldEvery?: boolean;
    } = {},
  ): Promise<CatalogEvaluation> {
    const started = performance.now();
    const relevance = args.relevance ?? 'product';
    const sampleSize = args.sampleSize ?? DEFAULT_SAMPLE;
    const depth = args.depth ?? DEFAULT_DEPTH;
    const seed = args.seed ?? 1;
    checkArgs(sampleSize, depth, seed);
    const { metric, model } = args.model
      ? await this.settings.resolveFor(merchantId, args.model, args.metric ?? undefined)
      : await this.settings.resolve(merchantId, args.metric ?? undefined);

    const catalog = await this.db.embeddings.catalog(merchantId, model);
    const key = (item: { productId: string; category: string | null }) =>
      relevance === 'product' ? item.productId : item.category;
    const groupSize = new Map<string, number>();
    const categoryOf = new Map<string, string | null>();
    for (const item of catalog) {
      categoryOf.set(item.productId, item.category);
      const k = key(item);
      if (k !== null) groupSize.set(k, (groupSize.get(k) ?? 0) + 1);
    }
    // Queries need at least one relevant image besides themselves.
    const eligible = catalog.filter((item) => {
      const k = key(item);
      return k !== null && (groupSize.get(k) ?? 0) >= 2;
    });
    const queriesSample = sample(eligible, sampleSize, seed);

    const vectors = await this.db.embeddings.getMany(
      merchantId,
      model,
      queriesSample.map((q) => q.imageId),
    );
    const queries: EvaluationQuery[] = [];
    for (const [i, q] of queriesSample.entries()) {
      if (yieldEvery) await new Promise((resolve) => setImmediate(resolve));
      await onProgress?.(i, queriesSample.length);
      const vector = vectors.get(q.imageId);
      if (!vector) continue;
      const hits = await this.db.embeddings.nearest({
        merchantId,
        modelId: model,
        vector,
        metric,
        k: depth,
        excludeImageIds: [q.imageId],
      });
      const target = key(q);
      queries.push({
        id: q.imageId,
        relevantTotal: (groupSize.get(target as string) ?? 1) - 1,
        results: hits.map((h) => ({
          score: h.score,
          distance: h.distance,
          relevant:
            relevance === 'product'
              ? h.productId === q.productId
              : categoryOf.get(h.productId) === target,
        })),
      });
    }

    const report = evaluateRetrieval({
      metric,
      queries,
      ks: [1, 5, 10],
      thresholds: { steps: 100 },
      targetPrecision: args.targetPrecision ?? 0.9,
      histogramBins: 30,
      sampled: { population: eligible.length, seed },
    });
    return {
      metric,
      relevance,
      model,
      depth,
      sample: {
        sampled: queries.length < eligible.length,
        population: eligible.length,
        queries: queries.length,
        seed,
        mapStandardError: report.sampled?.mapStandardError ?? null,
      },
      pairs: report.counts.pairs,
      relevantPairs: report.counts.relevantPairs,
      map: report.map,
      mapAtR: report.mapAtR,
      mapAtK: [...report.mapAtK],
      recallAtK: [...report.recallAtK],
      prCurve: [...report.prCurve],
      histogram: {
        edges: [...report.histogram.edges],
        relevant: [...report.histogram.relevant],
        irrelevant: [...report.histogram.irrelevant],
      },
      recommended: report.recommended,
      tookMs: performance.now() - started,
    };
  }
}
