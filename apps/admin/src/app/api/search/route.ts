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

/** A yes/no form field: 'true' or 'false'; absent: the default. */
function flagField(form: FormData, name: string, fallback: boolean): boolean {
  const value = textField(form, name);
  if (value === '') return fallback;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ApiError(`${name} must be true or false`, 'BAD_USER_INPUT', 400);
}

/**
 * The playground's search: the photo under both metrics with the loosest thresholds and the
 * API's maximum of hits; the browser then cuts the lists at any threshold without uploading again.
 * Fields: image, region (JSON, optional), detect (default true), objects (default false: list
 * every detected product with its top hits).
 */
export async function POST(req: Request): Promise<NextResponse> {
  try {
    assertSameOrigin(req);
    const { api } = await sessionOrThrow();
    const form = await req.formData();
    const file = fileField(form, 'image');
    const region = parseRegion(textField(form, 'region'));
    const detect = flagField(form, 'detect', true);
    const objects = flagField(form, 'objects', false);
    return NextResponse.json(await searchBothMetrics(api, file, { region, detect, objects }));
  } catch (error) {
    return errorResponse(error);
  }
}
