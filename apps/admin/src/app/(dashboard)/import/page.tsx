import { IngestJobsDocument } from '@lookalike/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { RefreshWhile } from '@/components/refresh-while';
import { isFinished } from '@/lib/imports';
import { requireSession } from '@/server/session';
import { Importer } from './importer';
import { JobsTable } from './jobs-table';

export const metadata: Metadata = { title: 'Import' };

const PAGE_SIZE = 20;

type Params = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.trim() ?? '';

/** A page of past imports: its cursor, and the cursors before it (for "Previous"). */
function pageHref(after?: string, trail: string[] = []) {
  const p = new URLSearchParams();
  if (after) p.set('after', after);
  if (trail.length) p.set('trail', trail.join('.'));
  const s = p.toString();
  return s ? `/import?${s}` : '/import';
}

export default async function ImportPage({ searchParams }: { searchParams: Promise<Params> }) {
  const session = await requireSession();
  const params = await searchParams;
  const after = one(params.after) || undefined;
  const trail = one(params.trail) ? one(params.trail).split('.') : [];
  const { ingestJobs } = await session.api.request(IngestJobsDocument, {
    first: PAGE_SIZE,
    after,
  });
  const running = ingestJobs.nodes.some((j) => !isFinished(j.status));
  const canWrite = session.can('CATALOG_WRITE');

  return (
    <div className="stack">
      {/* Running imports move in the table too, more slowly than on their own page. */}
      <RefreshWhile active={running} everyMs={2000} />
      <div className="page-head">
        <div>
          <h1>Import a catalog</h1>
          <p className="muted">
            A whole catalog in one file: CSV with a header row (<code>externalId</code> and{' '}
            <code>title</code> required; <code>description</code>, <code>category</code>,{' '}
            <code>labels</code>, <code>price</code>, <code>currency</code>, <code>url</code> and{' '}
            <code>imageUrls</code> separated by <code>|</code>), JSON Lines with the same keys, or a
            ZIP with <code>catalog.csv</code> or <code>catalog.jsonl</code> and the image files its
            rows name. The file is checked at once; workers then fetch, embed and store the images.
            Importing the same rows again changes nothing.
          </p>
        </div>
      </div>
      {canWrite ? (
        <Importer />
      ) : (
        <div className="alert warn">
          This key has no CATALOG_WRITE scope, so it cannot import or cancel imports: past imports
          are read-only here.
        </div>
      )}
      <section className="panel stack" aria-labelledby="jobs-h">
        <h2 id="jobs-h">Past imports</h2>
        {ingestJobs.nodes.length === 0 ? (
          <p className="muted">No imports yet.</p>
        ) : (
          <JobsTable jobs={ingestJobs.nodes} />
        )}
        {(after || ingestJobs.pageInfo.hasNextPage) && (
          <nav className="pager" aria-label="Pages">
            {after ? (
              <Link className="button" href={pageHref(trail.at(-1), trail.slice(0, -1))}>
                ← Newer
              </Link>
            ) : (
              <span />
            )}
            {ingestJobs.pageInfo.hasNextPage && ingestJobs.pageInfo.endCursor ? (
              <Link
                className="button"
                href={pageHref(ingestJobs.pageInfo.endCursor, after ? [...trail, after] : trail)}
              >
                Older →
              </Link>
            ) : (
              <span />
            )}
          </nav>
        )}
      </section>
    </div>
  );
}
