'use server';

import {
  CatalogEvaluationDocument,
  ProductSampleDocument,
  StartCatalogEvaluationDocument,
  UpdateSettingsDocument,
} from '@lookalike/sdk';
import { revalidatePath } from 'next/cache';
import type { SampleQuery } from '@/lib/thresholds';
import {
  METRICS,
  type ActionResult,
  type CatalogEvaluation,
  type EvaluationJob,
  type SearchSettings,
  type SimilarityMetric,
} from '@/lib/types';
import { actionFailure, ApiError, type ApiClient } from '@/server/graphql';
import { storedImageBothMetrics } from '@/server/search';
import { sessionOrThrow, sessionWithScope } from '@/server/session';

export interface EvaluationParams {
  relevance: 'PRODUCT' | 'CATEGORY';
  sampleSize: number;
  depth: number;
  targetPrecision: number;
}

/** Where an evaluation stands; `results` once COMPLETED. */
export interface EvaluationProgress {
  id: string;
  status: EvaluationJob['status'];
  done: number;
  total: number;
  error: string | null;
  results: Record<SimilarityMetric, CatalogEvaluation> | null;
}

/**
 * Queue one evaluation of both metrics on the same sample (the API runs it on a worker). When
 * one of this merchant's is already queued or running (another tab, another user), follow that
 * one instead: the API runs one at a time.
 */
export async function startEvaluation(
  params: EvaluationParams,
): Promise<ActionResult<EvaluationProgress>> {
  try {
    const { api } = await sessionOrThrow();
    try {
      const { startCatalogEvaluation: job } = await api.request(StartCatalogEvaluationDocument, {
        metrics: [...METRICS],
        relevance: params.relevance,
        sampleSize: params.sampleSize,
        depth: params.depth,
        targetPrecision: params.targetPrecision,
        seed: 1,
      });
      return { ok: true, data: progressOf(job, []) };
    } catch (error) {
      if (error instanceof ApiError && error.code === 'CONFLICT' && error.reason)
        return await evaluationStatus(error.reason);
      throw error;
    }
  } catch (error) {
    return actionFailure(error);
  }
}

/** An evaluation's progress, and its results once it has them. */
export async function evaluationStatus(id: string): Promise<ActionResult<EvaluationProgress>> {
  try {
    const { api } = await sessionOrThrow();
    const { catalogEvaluation: job } = await api.request(CatalogEvaluationDocument, { id });
    return { ok: true, data: progressOf(job, job.results) };
  } catch (error) {
    return actionFailure(error);
  }
}

function progressOf(job: EvaluationJob, results: CatalogEvaluation[]): EvaluationProgress {
  const byMetric = Object.fromEntries(results.map((r) => [r.metric, r])) as Partial<
    Record<SimilarityMetric, CatalogEvaluation>
  >;
  const complete = METRICS.every((m) => byMetric[m]);
  return {
    id: job.id,
    status: job.status,
    done: job.done,
    total: job.total,
    error: job.error ?? null,
    results: complete ? (byMetric as Record<SimilarityMetric, CatalogEvaluation>) : null,
  };
}

/**
 * Sample images searched at a time: the sample does not wait on each in turn, and the API (two
 * nearest-neighbour queries per sample) is not handed 60 at once.
 */
const SAMPLE_CONCURRENCY = 3;

/**
 * The dry run's sample: `count` catalog images, spread over the newest 40 products, each
 * searched by its stored vector (`similarProducts(imageId:)`) under both metrics with the
 * loosest thresholds. The browser then applies old and new settings to the same hits and counts
 * what changes.
 */
export async function sampleQueries(count: number): Promise<ActionResult<SampleQuery[]>> {
  try {
    const { api } = await sessionOrThrow();
    const n = Math.min(Math.max(1, Math.floor(count)), 30);
    const { products } = await api.request(ProductSampleDocument, { first: 40 });
    const withImages = products.edges.flatMap(({ node }) => {
      const image = node.images[0];
      return image ? [{ externalId: node.externalId, title: node.title, imageId: image.id }] : [];
    });
    if (withImages.length === 0)
      throw new ApiError('The catalog has no images to sample yet.', 'NOT_FOUND', 404);
    const step = withImages.length / Math.min(n, withImages.length);
    const picked = Array.from(
      { length: Math.min(n, withImages.length) },
      (_, i) => withImages[Math.floor(i * step)],
    ).filter((image) => image !== undefined);
    const queries: SampleQuery[] = [];
    for (let i = 0; i < picked.length; i += SAMPLE_CONCURRENCY) {
      const chunk = picked.slice(i, i + SAMPLE_CONCURRENCY);
      const answers = await Promise.all(chunk.map((image) => sampleQuery(api, image)));
      queries.push(...answers.filter((q) => q !== null));
    }
    if (queries.length === 0)
      throw new ApiError(
        'None of the sampled images has a vector of the serving model yet: wait for its re-index (Models page).',
        'NOT_FOUND',
        404,
      );
    return { ok: true, data: queries };
  } catch (error) {
    return actionFailure(error);
  }
}

/**
 * One product's first image searched by its stored vector under both metrics: nothing is
 * downloaded, uploaded or embedded, and the image's own product comes back first (EXACT), as
 * the same bytes uploaded again would. Null for an image the serving model has no vector of
 * yet (a switch forced before its re-index finished): searches cannot see it either.
 */
async function sampleQuery(
  api: ApiClient,
  image: { externalId: string; title: string; imageId: string },
): Promise<SampleQuery | null> {
  try {
    const { hits } = await storedImageBothMetrics(api, image.imageId);
    return { label: `${image.externalId} · ${image.title}`, hits };
  } catch (error) {
    if (error instanceof ApiError && error.code === 'NOT_FOUND') return null;
    throw error;
  }
}

export async function saveSettings(input: {
  metric: SimilarityMetric;
  searchThreshold: number;
  matchThreshold: number;
}): Promise<ActionResult<SearchSettings>> {
  try {
    const { api } = await sessionWithScope('SETTINGS_WRITE', 'saving settings needs');
    const { updateSearchSettings } = await api.request(UpdateSettingsDocument, { input });
    revalidatePath('/tuning');
    revalidatePath('/search');
    return { ok: true, data: updateSearchSettings };
  } catch (error) {
    return actionFailure(error);
  }
}
