'use server';

import { CancelIngestJobDocument } from '@lookalike/sdk';
import type { ActionResult, IngestJob } from '@/lib/types';
import { actionFailure, ApiError } from '@/server/graphql';
import { sessionOrThrow } from '@/server/session';

/** Stop an import: the rows not yet worked are cancelled, the rows imported stay. */
export async function cancelImport(id: string): Promise<ActionResult<IngestJob>> {
  try {
    const { api, can } = await sessionOrThrow();
    if (!can('CATALOG_WRITE'))
      throw new ApiError(
        'This key has no CATALOG_WRITE scope, which cancelling an import needs.',
        'FORBIDDEN',
        403,
      );
    const { cancelIngestJob: job } = await api.request(CancelIngestJobDocument, { id });
    return { ok: true, data: job };
  } catch (error) {
    return actionFailure(error);
  }
}
