import { performance } from 'node:perf_hooks';
import type { Db, Metric } from '@lookalike/db';
import {
  evaluateRetrieval,
  seededRandom,
  type EvaluationQuery,
  type MetricAtK,
  type PrPoint,
  type ThresholdRecommendations,
} from '@lookalike/search';
import { badInput } from '../errors.js';
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

export const DEFAULT_SAMPLE = 200;
export const MAX_SAMPLE = 2000;
export const DEFAULT_DEPTH = 50;
export const MAX_DEPTH = 200;

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
  ) {}

  async evaluate(merchantId: string, args: EvaluateArgs): Promise<CatalogEvaluation> {
    const started = performance.now();
    const relevance = args.relevance ?? 'product';
    const sampleSize = args.sampleSize ?? DEFAULT_SAMPLE;
    const depth = args.depth ?? DEFAULT_DEPTH;
    const seed = args.seed ?? 1;
    if (!Number.isInteger(sampleSize) || sampleSize < 1 || sampleSize > MAX_SAMPLE) {
      throw badInput(`sampleSize must be an integer in [1, ${MAX_SAMPLE}]`, 'sampleSize');
    }
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_DEPTH) {
      throw badInput(`depth must be an integer in [1, ${MAX_DEPTH}]`, 'depth');
    }
    if (!Number.isInteger(seed)) throw badInput('seed must be an integer', 'seed');
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
    for (const q of queriesSample) {
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
