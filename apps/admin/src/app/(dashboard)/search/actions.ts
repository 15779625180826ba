'use server';

import type { ActionResult, SearchAnswer } from '@/lib/types';
import { actionFailure } from '@/server/graphql';
import { moreLikeBothMetrics } from '@/server/search';
import { sessionOrThrow } from '@/server/session';

/**
 * "More like this" for a hit of the playground: the product's stored vectors under both metrics
 * with the loosest thresholds and the API's maximum of hits, like a photo search, so the
 * sliders re-cut the answer without asking again. Nothing is uploaded or embedded.
 */
export async function moreLikeThis(productId: string): Promise<ActionResult<SearchAnswer>> {
  try {
    const { api } = await sessionOrThrow();
    return { ok: true, data: await moreLikeBothMetrics(api, [productId]) };
  } catch (error) {
    return actionFailure(error);
  }
}
