import { ImportCatalogDocument } from '@lookalike/sdk';
import { NextResponse } from 'next/server';
import { textField } from '@/lib/form-data';
import { extensionOf, importFormatOf } from '@/lib/imports';
import { IMPORT_FORMATS, type ImportFormat } from '@/lib/types';
import { ApiError, namedFile } from '@/server/graphql';
import { assertSameOrigin, errorResponse, fileField } from '@/server/route-helpers';
import { sessionWithScope } from '@/server/session';

/** The format the form names, else the one the file's name says. */
function formatOf(given: string, file: File): ImportFormat {
  if (given) {
    const format = IMPORT_FORMATS.find((f) => f === given.toUpperCase());
    if (!format) throw new ApiError(`Unknown import format "${given}"`, 'BAD_USER_INPUT', 400);
    return format;
  }
  const format = importFormatOf(file.name);
  if (!format)
    throw new ApiError(
      `The file's extension (${extensionOf(file.name)}) names no import format: a catalog is .csv, .jsonl (or .ndjson) or .zip.`,
      'BAD_USER_INPUT',
      400,
    );
  return format;
}

/**
 * A catalog file for importCatalog: a route handler, not a server action, because a catalog may
 * be as large as the API's import limit (MAX_IMPORT_BYTES, 100 MiB by default), far above a
 * server action's body limit (next.config.ts). The API checks the file and records its rows
 * before it answers, then its workers import them: the answer is the job, which the page
 * follows (/api/import/<id>).
 *
 * form: file, and format (CSV, JSONL, ZIP) when the file's name does not say it.
 */
export async function POST(req: Request): Promise<NextResponse> {
  try {
    assertSameOrigin(req);
    const { api } = await sessionWithScope('CATALOG_WRITE', 'imports need');
    const form = await req.formData();
    const file = fileField(form, 'file');
    const format = formatOf(textField(form, 'format'), file);
    const { importCatalog: job } = await api.request(ImportCatalogDocument, {
      file: namedFile(file, `catalog.${format.toLowerCase()}`),
      format,
    });
    return NextResponse.json({ job });
  } catch (error) {
    return errorResponse(error);
  }
}
