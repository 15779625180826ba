import { IngestJobErrorsDocument } from '@lookalike/sdk';
import { csvLine, ERROR_CSV_COLUMNS } from '@/lib/imports';
import type { IngestRowErrorPage } from '@/lib/types';
import type { ApiClient } from '@/server/graphql';
import { errorResponse } from '@/server/route-helpers';
import { sessionOrThrow } from '@/server/session';

/** The API's largest page of a job's errors: the fewest requests for a large file. */
const PAGE = 1000;

function lines(page: IngestRowErrorPage): string {
  return page.nodes.map((e) => csvLine([e.row, e.externalId, e.code, e.reason])).join('');
}

/**
 * An import's failed rows as CSV (row, externalId, code, reason; a header line first), streamed
 * page by page as the API pages them, so an import with many failures is never held whole. The
 * first page is asked for before anything is sent: an unknown job or an ended session is an
 * error answer, not a broken file.
 */
export async function GET(
  _req: Request,
  { params }: { params: Promise<{ id: string }> },
): Promise<Response> {
  let api: ApiClient;
  let first: { id: string; errors: IngestRowErrorPage };
  try {
    const { id } = await params;
    api = (await sessionOrThrow()).api;
    first = (await api.request(IngestJobErrorsDocument, { id, first: PAGE })).ingestJob;
  } catch (error) {
    return errorResponse(error);
  }
  const jobId = first.id;
  const encoder = new TextEncoder();
  let next: IngestRowErrorPage | null = first.errors;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(csvLine(ERROR_CSV_COLUMNS)));
    },
    // One page per pull: the stream asks for the next only when the browser has read this one.
    async pull(controller) {
      if (!next) {
        controller.close();
        return;
      }
      const page: IngestRowErrorPage = next;
      controller.enqueue(encoder.encode(lines(page)));
      const after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      if (!after) {
        next = null;
        return;
      }
      try {
        next = (await api.request(IngestJobErrorsDocument, { id: jobId, first: PAGE, after }))
          .ingestJob.errors;
      } catch (error) {
        // The headers are sent: the browser can only be told by a broken download.
        console.error(`[admin] the errors of import ${jobId} stopped part-way:`, error);
        controller.error(error);
      }
    },
  });
  return new Response(body, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="import-${jobId}-errors.csv"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
  });
}
