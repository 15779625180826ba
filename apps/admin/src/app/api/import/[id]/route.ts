import { IngestJobDocument } from '@lookalike/sdk';
import { NextResponse } from 'next/server';
import { errorResponse } from '@/server/route-helpers';
import { sessionOrThrow } from '@/server/session';

/** An import's progress, for the job's page to poll while it runs (any signed-in key). */
export async function GET(
  _req: Request,
  { params }: { params: Promise<{ id: string }> },
): Promise<NextResponse> {
  try {
    const { id } = await params;
    const { api } = await sessionOrThrow();
    const { ingestJob: job } = await api.request(IngestJobDocument, { id });
    return NextResponse.json({ job }, { headers: { 'Cache-Control': 'no-store' } });
  } catch (error) {
    return errorResponse(error);
  }
}
