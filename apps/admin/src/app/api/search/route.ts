import { NextResponse } from 'next/server';
import { ApiError } from '@/server/graphql';
import { assertSameOrigin, errorResponse, fileField } from '@/server/route-helpers';
import { searchBothMetrics, type Region } from '@/server/search';
import { sessionOrThrow } from '@/server/session';
import { textField } from '@/lib/form-data';

function parseRegion(value: string): Region | undefined {
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
  const [x, y, width, height] = ints as [number, number, number, number];
  return { x, y, width, height };
}

/**
 * The playground's search: the photo under both metrics with the loosest thresholds and the
 * API's maximum of hits; the browser then cuts the lists at any threshold without uploading again.
 */
export async function POST(req: Request): Promise<NextResponse> {
  try {
    assertSameOrigin(req);
    const { api } = await sessionOrThrow();
    const form = await req.formData();
    const file = fileField(form, 'image');
    const region = parseRegion(textField(form, 'region'));
    return NextResponse.json(await searchBothMetrics(api, file, region));
  } catch (error) {
    return errorResponse(error);
  }
}
