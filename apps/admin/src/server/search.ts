import 'server-only';
import {
  MoreLikeBothDocument,
  SimilarBothDocument,
  StoredImageBothDocument,
  type SimilarFieldsFragment,
  type SimilarHitFieldsFragment,
} from '@lookalike/sdk';
import { LOOSEST, MAX_HITS } from '@/lib/thresholds';
import type { Hit, PhotoSearch, SearchAnswer } from '@/lib/types';
import { namedFile, type ApiClient } from './graphql';

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

function toHits(result: { hits: SimilarHitFieldsFragment[] }): Hit[] {
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
  cosine: SimilarFieldsFragment;
  euclidean: SimilarFieldsFragment;
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

/** How many hits each detected product shows under the photo. */
export const OBJECT_HITS = 4;

export interface PhotoSearchOptions {
  /** Search only this part of the photo (no detection for the main search). */
  region?: Region | null;
  /** Detect the products in the photo (the API's default); false: the whole photo or region. */
  detect?: boolean;
  /** Also list every detected product with its top OBJECT_HITS hits. */
  objects?: boolean;
}

/**
 * A photo searched under both metrics with the loosest thresholds and the API's maximum of
 * hits, so the browser can cut the lists at any threshold without uploading again. One request:
 * the photo is uploaded once and every aliased similarProducts field reads it. The answer says
 * what was searched (the detected product, the region or the whole photo) and, when asked, lists
 * every detected product.
 */
export async function searchBothMetrics(
  api: ApiClient,
  file: File,
  { region = null, detect = true, objects = false }: PhotoSearchOptions = {},
): Promise<SearchAnswer> {
  const result = await api.request(SimilarBothDocument, {
    ...LOOSEST_VARIABLES,
    image: namedFile(file, 'photo'),
    ...(region ? { region } : {}),
    detect,
    withObjects: objects,
    objectHits: OBJECT_HITS,
  });
  const photo: PhotoSearch = {
    searchedBox: result.cosine.searchedBox,
    searchedDetection: result.cosine.searchedDetection,
    objects: result.detected
      ? result.detected.objects.map((o) => ({
          box: o.box,
          score: o.score,
          category: o.category,
          hits: toHits(o),
        }))
      : null,
  };
  return { ...toAnswer(result), photo };
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
    await api.request(MoreLikeBothDocument, { ...LOOSEST_VARIABLES, productIds: [...productIds] }),
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
  return toAnswer(await api.request(StoredImageBothDocument, { ...LOOSEST_VARIABLES, imageId }));
}
