'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import { ConfirmButton } from '@/components/confirm-button';
import { formatDuration, formatNumber, formatPercent, formatTimestamp } from '@/lib/format';
import {
  isFinished,
  jobProgress,
  keepRecent,
  workedFraction,
  type ProgressSample,
} from '@/lib/imports';
import type { IngestJob } from '@/lib/types';
import { isErrorBody } from '@/lib/upload-client';
import { cancelImport } from '../actions';

/** How often a running import is asked for: about as often as its counters move. */
const POLL_MS = 1000;

/** How long it ran, in words ("0 s" says nothing of a small import that took 300 ms). */
const ranFor = (seconds: number) => (seconds < 1 ? 'under a second' : formatDuration(seconds));

/**
 * An import's progress, live: while it runs the page asks the dashboard's /api/import/<id> for
 * the job every second (the next ask waits for the last answer, so a slow API is not piled on),
 * measures the rate over the last seconds and shows the time left; its Cancel button stops it.
 * When rows fail or the job ends, the server parts of the page (the errors table) are refreshed.
 */
export function JobStatus({ initial, canCancel }: { initial: IngestJob; canCancel: boolean }) {
  const router = useRouter();
  const [job, setJob] = useState(initial);
  const [pollError, setPollError] = useState<string | null>(null);
  /** When the last answer came, and the recent samples of rows worked: set after hydration only. */
  const [clock, setClock] = useState<{ now: number; samples: ProgressSample[] } | null>(null);
  const finished = isFinished(job.status);
  const seen = useRef({ failed: initial.failed, status: initial.status });

  useEffect(() => {
    setClock({ now: Date.now(), samples: [] });
  }, []);

  useEffect(() => {
    if (finished) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const res = await fetch(`/api/import/${encodeURIComponent(job.id)}`, {
          cache: 'no-store',
        });
        const body = (await res.json()) as { job: IngestJob } | { error: string; code: string };
        if (stopped) return;
        if (isErrorBody(body)) setPollError(body.error);
        else {
          const now = Date.now();
          setPollError(null);
          setJob(body.job);
          setClock((c) => ({
            now,
            samples: keepRecent([
              ...(c?.samples ?? []),
              { at: now, worked: body.job.done + body.job.failed },
            ]),
          }));
        }
      } catch {
        if (!stopped) setPollError('The dashboard server is not reachable; still trying.');
      }
      if (!stopped) timer = setTimeout(() => void tick(), POLL_MS);
    };
    timer = setTimeout(() => void tick(), POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [finished, job.id]);

  // New failed rows or the end: the errors table and the counts beside it are server-rendered.
  useEffect(() => {
    if (job.failed === seen.current.failed && job.status === seen.current.status) return;
    seen.current = { failed: job.failed, status: job.status };
    router.refresh();
  }, [job.failed, job.status, router]);

  const progress = clock ? jobProgress(job, clock.now, clock.samples) : null;
  const fraction = workedFraction(job);
  return (
    <section
      className="panel stack"
      aria-labelledby="progress-h"
      data-testid="job-status"
      data-status={job.status}
    >
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h2 id="progress-h" className="row" style={{ margin: 0, gap: '0.5rem' }}>
          Progress{' '}
          <span className={`badge status-${job.status}`} data-testid="job-status-badge">
            {job.status}
          </span>
        </h2>
        {canCancel && !finished && (
          <ConfirmButton
            label="Cancel import"
            title="Cancel this import?"
            confirmLabel="Stop the import"
            onConfirm={async () => {
              const result = await cancelImport(job.id);
              if (!result.ok) return result.error;
              setJob(result.data);
              return null;
            }}
          >
            <p>
              The rows not yet worked are cancelled; the {job.done} rows imported so far stay in the
              catalog.
            </p>
          </ConfirmButton>
        )}
      </div>
      <div
        className="progress"
        role="progressbar"
        aria-label="Rows worked"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction * 100)}
      >
        <span style={{ width: `${Math.min(100, fraction * 100)}%` }} />
      </div>
      <div className="summary" data-testid="job-counts">
        <div>
          <strong className="num">{job.done}</strong> imported
        </div>
        <div>
          <strong className="num">{job.failed}</strong> failed
        </div>
        <div>
          <strong className="num">{job.total}</strong> rows
        </div>
        <div>
          <strong className="num">{job.images}</strong> images
        </div>
        <div>
          <strong className="num">{formatPercent(fraction)}</strong> worked
        </div>
      </div>
      <p className="small muted" style={{ margin: 0 }} data-testid="job-timing">
        {job.status === 'QUEUED' && 'Waiting for a worker… '}
        {progress?.rate != null && <>{formatNumber(progress.rate, 1)} rows/s · </>}
        {!finished && progress && (
          <>
            time left {progress.etaSeconds != null ? formatDuration(progress.etaSeconds) : '—'}{' '}
            ·{' '}
          </>
        )}
        {progress?.elapsedSeconds != null && (
          <>
            {finished ? 'took' : 'running for'} {ranFor(progress.elapsedSeconds)} ·{' '}
          </>
        )}
        created {formatTimestamp(job.createdAt)}
        {job.finishedAt && <> · finished {formatTimestamp(job.finishedAt)}</>}
      </p>
      {!finished && (
        <p className="small muted" style={{ margin: 0 }}>
          <span className="spinner" aria-hidden="true" /> The workers are fetching, embedding and
          storing the rows&apos; images; this updates every second. You can leave this page: the
          import goes on.
        </p>
      )}
      {pollError && (
        <div role="alert" className="alert error">
          {pollError}
        </div>
      )}
    </section>
  );
}
