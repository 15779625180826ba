import 'server-only';
import { LOOSEST, MAX_HITS } from '@/lib/thresholds';
import type { Hit, MatchVerdict, SearchAnswer } from '@/lib/types';
import type { ApiClient } from './graphql';
import { SIMILAR_BOTH } from './queries';

interface SimilarResult {
  model: string;
  tookMs: number;
  hits: {
    score: number;
    distance: number;
    verdict: MatchVerdict;
    product: { id: string; externalId: string; title: string; category: string | null };
    image: { sha256: string };
  }[];
}

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

function toHits(result: SimilarResult): Hit[] {
  return result.hits.map((h) => ({
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

/**
 * A photo searched under both metrics with the loosest thresholds and the API's maximum of
 * hits, so the browser can cut the lists at any threshold without uploading again. One request:
 * the photo is uploaded once and both aliased similarProducts fields read it.
 */
export async function searchBothMetrics(
  api: ApiClient,
  file: File,
  region?: Region,
): Promise<SearchAnswer> {
  const { cosine, euclidean } = await api.upload<{
    cosine: SimilarResult;
    euclidean: SimilarResult;
  }>(
    SIMILAR_BOTH,
    {
      first: MAX_HITS,
      cosine: LOOSEST.COSINE,
      euclidean: LOOSEST.EUCLIDEAN,
      ...(region ? { region } : {}),
    },
    [{ variable: 'image', file, name: file.name || 'photo' }],
  );
  return {
    model: cosine.model,
    tookMs: { COSINE: cosine.tookMs, EUCLIDEAN: euclidean.tookMs },
    hits: { COSINE: toHits(cosine), EUCLIDEAN: toHits(euclidean) },
  };
}
