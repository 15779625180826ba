import { IngestJobDocument, IngestJobErrorsDocument } from '@lookalike/sdk';
import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { formatDate } from '@/lib/format';
import type { IngestRowErrorPage } from '@/lib/types';
import { ApiError } from '@/server/graphql';
import { requireSession } from '@/server/session';
import { JobStatus } from './job-status';

export const metadata: Metadata = { title: 'Import' };

/** Failed rows a page. */
const PAGE_SIZE = 50;

type Params = Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.trim() ?? '';

/** A page of the job's errors: its cursor, and the cursors before it (for "Previous"). */
function pageHref(id: string, after?: string, trail: string[] = []) {
  const p = new URLSearchParams();
  if (after) p.set('after', after);
  if (trail.length) p.set('trail', trail.join('.'));
  const s = p.toString();
  return `/import/${id}${s ? `?${s}` : ''}#errors-h`;
}

export default async function ImportJobPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Params>;
}) {
  const { id } = await params;
  const query = await searchParams;
  const after = one(query.after) || undefined;
  const trail = one(query.trail) ? one(query.trail).split('.') : [];
  const session = await requireSession();
  const found = await session.api.request(IngestJobDocument, { id }).catch((error: unknown) => {
    // A malformed id is "not found" to the API too.
    if (error instanceof ApiError && error.code === 'NOT_FOUND') return null;
    throw error;
  });
  if (!found) notFound();
  const job = found.ingestJob;
  const errors: IngestRowErrorPage | null =
    job.failed > 0
      ? (await session.api.request(IngestJobErrorsDocument, { id, first: PAGE_SIZE, after }))
          .ingestJob.errors
      : null;
  const start = trail.length * PAGE_SIZE + (after ? PAGE_SIZE : 0);
  const canWrite = session.can('CATALOG_WRITE');

  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <p className="small">
            <Link href="/import">← Imports</Link>
          </p>
          <h1>
            Import <span className="mono">{job.id.slice(0, 8)}</span>
          </h1>
          <p className="muted">
            {job.format} · {job.total} {job.total === 1 ? 'row' : 'rows'} · created{' '}
            {formatDate(job.createdAt)} · id <span className="mono small">{job.id}</span>
          </p>
        </div>
      </div>
      {!canWrite && (
        <div className="alert warn">
          This key has no CATALOG_WRITE scope, so it cannot cancel the import: it is read-only here.
        </div>
      )}
      <JobStatus initial={job} canCancel={canWrite} />
      <section className="panel stack" aria-labelledby="errors-h">
        <div className="row" style={{ justifyContent: 'space-between' }}>
          <h2 id="errors-h" style={{ margin: 0 }}>
            Rows that failed <span className="muted small">({job.failed})</span>
          </h2>
          {job.failed > 0 && (
            // A plain link: the route handler streams the file as a download.
            <a className="button" href={`/import/${job.id}/errors.csv`} download>
              Download errors (CSV)
            </a>
          )}
        </div>
        {!errors || errors.nodes.length === 0 ? (
          <p className="muted">{job.failed > 0 ? 'No more failed rows.' : 'No row has failed.'}</p>
        ) : (
          <>
            <table data-testid="row-errors">
              <thead>
                <tr>
                  <th className="num">row</th>
                  <th>externalId</th>
                  <th>code</th>
                  <th>reason</th>
                </tr>
              </thead>
              <tbody>
                {errors.nodes.map((e) => (
                  <tr key={e.row} data-row={e.row}>
                    <td className="num">{e.row}</td>
                    <td className="mono">{e.externalId ?? <span className="muted">—</span>}</td>
                    <td>
                      <code>{e.code}</code>
                    </td>
                    <td>{e.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <nav className="pager" aria-label="Pages of failed rows">
              {after ? (
                <Link className="button" href={pageHref(job.id, trail.at(-1), trail.slice(0, -1))}>
                  ← Previous
                </Link>
              ) : (
                <span />
              )}
              <span className="muted small">
                {start + 1}–{start + errors.nodes.length} of {job.failed}
              </span>
              {errors.pageInfo.hasNextPage && errors.pageInfo.endCursor ? (
                <Link
                  className="button"
                  href={pageHref(
                    job.id,
                    errors.pageInfo.endCursor,
                    after ? [...trail, after] : trail,
                  )}
                >
                  Next →
                </Link>
              ) : (
                <span />
              )}
            </nav>
          </>
        )}
      </section>
    </div>
  );
}
