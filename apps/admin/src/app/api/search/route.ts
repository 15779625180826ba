import { NextResponse } from 'next/server';
import { LOOSEST, MAX_HITS } from '@/lib/thresholds';
import { METRICS, type Hit, type MatchVerdict, type SimilarityMetric } from '@/lib/types';
import { ApiError } from '@/server/graphql';
import { SIMILAR } from '@/server/queries';
import { assertSameOrigin, errorResponse, fileField } from '@/server/route-helpers';
import { sessionOrThrow } from '@/server/session';
import { textField } from '@/lib/form-data';

interface SimilarAnswer {
  similarProducts: {
    model: string;
    tookMs: number;
    hits: {
      score: number;
      distance: number;
      verdict: MatchVerdict;
      product: { id: string; externalId: string; title: string; category: string | null };
      image: { sha256: string };
    }[];
  };
}

export interface SearchAnswer {
  model: string;
  tookMs: Record<SimilarityMetric, number>;
  hits: Record<SimilarityMetric, Hit[]>;
}

function parseRegion(value: string) {
  if (value === '') return undefined;
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(value) as Record<string, unknown>;
  } catch {
    throw new ApiError('region must be JSON', 'BAD_USER_INPUT', 400);
  }
  const ints = ['x', 'y', 'width', 'height'].map((k) => r[k]);
  if (!ints.every((v) => typeof v === 'number' && Number.isInteger(v)))
    throw new ApiError('region must have integer x, y, width, height', 'BAD_USER_INPUT', 400);
  const [x, y, width, height] = ints as number[];
  return { x, y, width, height };
}

/**
 * The playground's search: the photo is sent once per metric with the loosest threshold and the
 * API's maximum of hits; the browser then cuts the list at any threshold without uploading again.
 */
export async function POST(req: Request): Promise<NextResponse> {
  try {
    assertSameOrigin(req);
    const { api } = await sessionOrThrow();
    const form = await req.formData();
    const file = fileField(form, 'image');
    const region = parseRegion(textField(form, 'region'));
    const answers = await Promise.all(
      METRICS.map((metric) =>
        api.upload<SimilarAnswer>(
          SIMILAR,
          { first: MAX_HITS, metric, threshold: LOOSEST[metric], ...(region ? { region } : {}) },
          [{ variable: 'image', file, name: file.name || 'photo' }],
        ),
      ),
    );
    const toHits = (a: SimilarAnswer): Hit[] =>
      a.similarProducts.hits.map((h) => ({
        productId: h.product.id,
        externalId: h.product.externalId,
        title: h.product.title,
        category: h.product.category,
        sha256: h.image.sha256,
        score: h.score,
        distance: h.distance,
        verdict: h.verdict,
      }));
    const [cosine, euclidean] = answers as [SimilarAnswer, SimilarAnswer];
    const body: SearchAnswer = {
      model: cosine.similarProducts.model,
      tookMs: {
        COSINE: cosine.similarProducts.tookMs,
        EUCLIDEAN: euclidean.similarProducts.tookMs,
      },
      hits: { COSINE: toHits(cosine), EUCLIDEAN: toHits(euclidean) },
    };
    return NextResponse.json(body);
  } catch (error) {
    return errorResponse(error);
  }
}
