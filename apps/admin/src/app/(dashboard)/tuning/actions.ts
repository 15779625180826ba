'use server';

import { revalidatePath } from 'next/cache';
import { LOOSEST, MAX_HITS, type SampleQuery } from '@/lib/thresholds';
import {
  METRICS,
  type ActionResult,
  type CatalogEvaluation,
  type Hit,
  type MatchVerdict,
  type SearchSettings,
  type SimilarityMetric,
} from '@/lib/types';
import { env } from '@/env';
import { ApiError, describeError } from '@/server/graphql';
import { EVALUATE, PRODUCT_SAMPLE, SIMILAR, UPDATE_SETTINGS } from '@/server/queries';
import { sessionOrThrow } from '@/server/session';

export interface EvaluationParams {
  relevance: 'PRODUCT' | 'CATEGORY';
  sampleSize: number;
  depth: number;
  targetPrecision: number;
}

function fail(error: unknown): { ok: false; error: string; code: string; field?: string } {
  const e = describeError(error);
  return { ok: false, error: e.message, code: e.code, ...(e.field ? { field: e.field } : {}) };
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
    return fail(error);
  }
}

interface SimilarAnswer {
  similarProducts: {
    hits: {
      score: number;
      distance: number;
      verdict: MatchVerdict;
      product: { id: string; externalId: string; title: string; category: string | null };
      image: { sha256: string };
    }[];
  };
}

/**
 * The dry run's sample: `count` catalog images, spread over the newest 40 products, each
 * searched once per metric with the loosest threshold. The browser then applies old and new
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
    const withImages = products.edges.map((e) => e.node).filter((p) => p.images.length > 0);
    if (withImages.length === 0)
      throw new ApiError('The catalog has no images to sample yet.', 'NOT_FOUND', 404);
    const step = withImages.length / Math.min(n, withImages.length);
    const picked = Array.from(
      { length: Math.min(n, withImages.length) },
      (_, i) => withImages[Math.floor(i * step)],
    );
    const queries: SampleQuery[] = [];
    for (const product of picked) {
      const sha = product?.images[0]?.sha256;
      if (!product || !sha) continue;
      const res = await fetch(`${env().API_URL}/images/${sha}`, { cache: 'no-store' });
      if (!res.ok)
        throw new ApiError(
          `Image ${sha} of ${product.externalId} is unavailable (${res.status})`,
          'NOT_FOUND',
          404,
        );
      const file = new Blob([await res.arrayBuffer()], {
        type: res.headers.get('content-type') ?? 'application/octet-stream',
      });
      const hits = {} as Record<SimilarityMetric, Hit[]>;
      for (const metric of METRICS) {
        const { similarProducts } = await api.upload<SimilarAnswer>(
          SIMILAR,
          { first: MAX_HITS, metric, threshold: LOOSEST[metric] },
          [{ variable: 'image', file, name: product.externalId }],
        );
        hits[metric] = similarProducts.hits.map((h) => ({
          productId: h.product.id,
          externalId: h.product.externalId,
          title: h.product.title,
          category: h.product.category,
          sha256: h.image.sha256,
          score: h.score,
          distance: h.distance,
          verdict: h.verdict,
        }));
      }
      queries.push({ label: `${product.externalId} · ${product.title}`, hits });
    }
    return { ok: true, data: queries };
  } catch (error) {
    return fail(error);
  }
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
    return fail(error);
  }
}
