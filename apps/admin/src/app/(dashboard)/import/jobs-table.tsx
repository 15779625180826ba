import Link from 'next/link';
import { formatDuration, formatTimestamp } from '@/lib/format';
import type { IngestJob } from '@/lib/types';

/** How long a finished job ran; '' while it runs or when it never started. */
function took(job: IngestJob): string {
  if (!job.startedAt || !job.finishedAt) return '';
  return formatDuration(
    (new Date(job.finishedAt).getTime() - new Date(job.startedAt).getTime()) / 1000,
  );
}

/** Imports, newest first, each linking to its own page. */
export function JobsTable({ jobs }: { jobs: readonly IngestJob[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th>created</th>
          <th>format</th>
          <th>status</th>
          <th className="num">rows</th>
          <th className="num">imported</th>
          <th className="num">failed</th>
          <th className="num">images</th>
          <th>finished</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr key={j.id} data-job={j.id}>
            <td>
              <Link href={`/import/${j.id}`}>{formatTimestamp(j.createdAt)}</Link>
            </td>
            <td>{j.format}</td>
            <td>
              <span className={`badge status-${j.status}`}>{j.status}</span>
            </td>
            <td className="num">{j.total}</td>
            <td className="num">{j.done}</td>
            <td className="num">
              {j.failed > 0 ? <span className="status-text error">{j.failed}</span> : 0}
            </td>
            <td className="num">{j.images}</td>
            <td className="small">
              {j.finishedAt ? (
                <>
                  {formatTimestamp(j.finishedAt)}
                  {took(j) && <span className="muted"> · {took(j)}</span>}
                </>
              ) : (
                <span className="muted">—</span>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
