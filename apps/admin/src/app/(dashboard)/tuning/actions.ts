'use server';

import { revalidatePath } from 'next/cache';
import type { SampleQuery } from '@/lib/thresholds';
import {
  METRICS,
  type ActionResult,
  type CatalogEvaluation,
  type SearchSettings,
  type SimilarityMetric,
} from '@/lib/types';
import { env } from '@/env';
import { actionFailure, ApiError, type ApiClient } from '@/server/graphql';
import { EVALUATE, PRODUCT_SAMPLE, UPDATE_SETTINGS } from '@/server/queries';
import { searchBothMetrics } from '@/server/search';
import { sessionOrThrow } from '@/server/session';

export interface EvaluationParams {
  relevance: 'PRODUCT' | 'CATEGORY';
  sampleSize: number;
  depth: number;
  targetPrecision: number;
}

/** evaluateCatalog for both metrics, same sample (same seed), side by side. */
export async function evaluateBoth(
  params: EvaluationParams,
): Promise<ActionResult<Record<SimilarityMetric, CatalogEvaluation>>> {
  try {
    const { api } = await sessionOrThrow();
    const results = await Promise.all(
      METRICS.map((metric) =>
        api.query<{ evaluateCatalog: CatalogEvaluation }>(EVALUATE, {
          metric,
          relevance: params.relevance,
          sampleSize: params.sampleSize,
          depth: params.depth,
          targetPrecision: params.targetPrecision,
          seed: 1,
        }),
      ),
    );
    const [cosine, euclidean] = results as [(typeof results)[number], (typeof results)[number]];
    return {
      ok: true,
      data: { COSINE: cosine.evaluateCatalog, EUCLIDEAN: euclidean.evaluateCatalog },
    };
  } catch (error) {
    return actionFailure(error);
  }
}

/**
 * Sample images fetched and searched at a time: the sample no longer waits on each in turn, and
 * the API (one embedding and two nearest-neighbour queries per sample) is not handed 30
 * searches at once.
 */
const SAMPLE_CONCURRENCY = 3;

/**
 * The dry run's sample: `count` catalog images, spread over the newest 40 products, each
 * searched under both metrics with the loosest thresholds. The browser then applies old and new
 * settings to the same hits and counts what changes.
 */
export async function sampleQueries(count: number): Promise<ActionResult<SampleQuery[]>> {
  try {
    const { api } = await sessionOrThrow();
    const n = Math.min(Math.max(1, Math.floor(count)), 30);
    const { products } = await api.query<{
      products: {
        edges: {
          node: { id: string; externalId: string; title: string; images: { sha256: string }[] };
        }[];
      };
    }>(PRODUCT_SAMPLE, { first: 40 });
    const withImages = products.edges.flatMap(({ node }) => {
      const sha256 = node.images[0]?.sha256;
      return sha256 ? [{ externalId: node.externalId, title: node.title, sha256 }] : [];
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
      queries.push(...(await Promise.all(chunk.map((image) => sampleQuery(api, image)))));
    }
    return { ok: true, data: queries };
  } catch (error) {
    return actionFailure(error);
  }
}

/** One product's first image, fetched from the API and searched under both metrics. */
async function sampleQuery(
  api: ApiClient,
  image: { externalId: string; title: string; sha256: string },
): Promise<SampleQuery> {
  const res = await fetch(`${env().API_URL}/images/${image.sha256}`, { cache: 'no-store' });
  if (!res.ok)
    throw new ApiError(
      `Image ${image.sha256} of ${image.externalId} is unavailable (${res.status})`,
      'NOT_FOUND',
      404,
    );
  const file = new File([await res.arrayBuffer()], image.externalId, {
    type: res.headers.get('content-type') ?? 'application/octet-stream',
  });
  const { hits } = await searchBothMetrics(api, file);
  return { label: `${image.externalId} · ${image.title}`, hits };
}

export async function saveSettings(input: {
  metric: SimilarityMetric;
  searchThreshold: number;
  matchThreshold: number;
}): Promise<ActionResult<SearchSettings>> {
  try {
    const { api, can } = await sessionOrThrow();
    if (!can('SETTINGS_WRITE'))
      throw new ApiError(
        'This key has no SETTINGS_WRITE scope, which saving settings needs.',
        'FORBIDDEN',
        403,
      );
    const { updateSearchSettings } = await api.query<{ updateSearchSettings: SearchSettings }>(
      UPDATE_SETTINGS,
      { input },
    );
    revalidatePath('/tuning');
    revalidatePath('/search');
    return { ok: true, data: updateSearchSettings };
  } catch (error) {
    return actionFailure(error);
  }
}
