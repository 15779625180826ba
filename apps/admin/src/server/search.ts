import 'server-only';
import { LOOSEST, MAX_HITS } from '@/lib/thresholds';
import type { Hit, MatchVerdict, SearchAnswer } from '@/lib/types';
import type { ApiClient } from './graphql';
import { MORE_LIKE_BOTH, SIMILAR_BOTH, STORED_IMAGE_BOTH } from './queries';

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

interface BothResults {
  cosine: SimilarResult;
  euclidean: SimilarResult;
}

/** Every hit up to the API's cap under both metrics: the browser cuts them at any threshold. */
const LOOSEST_VARIABLES = {
  first: MAX_HITS,
  cosine: LOOSEST.COSINE,
  euclidean: LOOSEST.EUCLIDEAN,
};

function toAnswer({ cosine, euclidean }: BothResults): SearchAnswer {
  return {
    model: cosine.model,
    tookMs: { COSINE: cosine.tookMs, EUCLIDEAN: euclidean.tookMs },
    hits: { COSINE: toHits(cosine), EUCLIDEAN: toHits(euclidean) },
  };
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
  return toAnswer(
    await api.upload<BothResults>(
      SIMILAR_BOTH,
      { ...LOOSEST_VARIABLES, ...(region ? { region } : {}) },
      [{ variable: 'image', file, name: file.name || 'photo' }],
    ),
  );
}

/**
 * "More like this": products like these (their stored vectors), under both metrics with the
 * loosest thresholds and the maximum of hits, like a photo search. The products themselves are
 * not among the hits.
 */
export async function moreLikeBothMetrics(
  api: ApiClient,
  productIds: readonly string[],
): Promise<SearchAnswer> {
  return toAnswer(
    await api.query<BothResults>(MORE_LIKE_BOTH, { ...LOOSEST_VARIABLES, productIds }),
  );
}

/**
 * A stored image as the query, under both metrics with the loosest thresholds: its stored
 * vector, so nothing is downloaded, uploaded or embedded. Its own product comes first (EXACT).
 */
export async function storedImageBothMetrics(
  api: ApiClient,
  imageId: string,
): Promise<SearchAnswer> {
  return toAnswer(
    await api.query<BothResults>(STORED_IMAGE_BOTH, { ...LOOSEST_VARIABLES, imageId }),
  );
}
