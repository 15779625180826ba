'use server';

import { CancelIngestJobDocument } from '@lookalike/sdk';
import type { ActionResult, IngestJob } from '@/lib/types';
import { actionFailure } from '@/server/graphql';
import { sessionWithScope } from '@/server/session';

/** Stop an import: the rows not yet worked are cancelled, the rows imported stay. */
export async function cancelImport(id: string): Promise<ActionResult<IngestJob>> {
  try {
    const { api } = await sessionWithScope('CATALOG_WRITE', 'cancelling an import needs');
    const { cancelIngestJob: job } = await api.request(CancelIngestJobDocument, { id });
    return { ok: true, data: job };
  } catch (error) {
    return actionFailure(error);
  }
}
