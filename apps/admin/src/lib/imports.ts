// The Import page's arithmetic and rules: which format a file name says, whether a job has
// finished, and its progress (rate, time left). Pure: shared by the route handlers and the
// browser.
import type { ImportFormat, IngestJob, IngestJobStatus } from './types';

/** Extensions by format: what the SDK and the CLI infer too (`.ndjson` is JSONL by another name). */
const EXTENSIONS: Record<string, ImportFormat> = {
  '.csv': 'CSV',
  '.jsonl': 'JSONL',
  '.ndjson': 'JSONL',
  '.zip': 'ZIP',
};

/** For the file picker's `accept`. */
export const IMPORT_ACCEPT = Object.keys(EXTENSIONS).join(',');

/** The import format a file's name says; null when its extension is none of them. */
export function importFormatOf(name: string): ImportFormat | null {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return null;
  return EXTENSIONS[name.slice(dot).toLowerCase()] ?? null;
}

/** A file name's extension as a person reads it: ".txt", or "no extension". */
export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? 'no extension' : name.slice(dot);
}

const FINISHED: readonly IngestJobStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/** Completed, failed or cancelled: it will not change any more. */
export function isFinished(status: IngestJobStatus): boolean {
  return FINISHED.includes(status);
}

/** Rows worked so far at a moment: imported or failed. */
export interface ProgressSample {
  at: number;
  worked: number;
}

/** How far back the measured rate looks: long enough to smooth the workers' batches of rows. */
export const RATE_WINDOW_MS = 10_000;

/** The samples still inside the window ending at the newest one (always the newest two, at least). */
export function keepRecent(samples: readonly ProgressSample[]): ProgressSample[] {
  const last = samples.at(-1);
  if (!last) return [];
  const recent = samples.filter((s) => last.at - s.at <= RATE_WINDOW_MS);
  return recent.length >= 2 ? recent : samples.slice(-2);
}

export interface JobProgress {
  /** Rows imported or failed. */
  worked: number;
  /** worked / total, in [0, 1]; 1 for a job without rows. */
  fraction: number;
  /** Since the job started, until it finished or `now`; null before it started. */
  elapsedSeconds: number | null;
  /** Rows a second: measured over the recent samples while it runs, on average once finished. */
  rate: number | null;
  /** The rows left at that rate; null when finished or when there is no rate yet. */
  etaSeconds: number | null;
}

/** Rows worked of all rows, in [0, 1]; 1 for a job without rows. */
export function workedFraction(job: Pick<IngestJob, 'done' | 'failed' | 'total'>): number {
  return job.total > 0 ? Math.min(1, (job.done + job.failed) / job.total) : 1;
}

const seconds = (from: string, to: number) => Math.max(0, (to - new Date(from).getTime()) / 1000);

/**
 * A job's progress at `now` (ms), from the samples the page took while polling. While it runs
 * the rate is measured over the samples (rows found bad on upload are counted at once, so the
 * average since the start would overstate it); before two samples differ in time, and once
 * finished, it is the average since the start.
 */
export function jobProgress(
  job: IngestJob,
  now: number,
  samples: readonly ProgressSample[] = [],
): JobProgress {
  const worked = job.done + job.failed;
  const fraction = workedFraction(job);
  const finished = isFinished(job.status);
  const end = finished && job.finishedAt ? new Date(job.finishedAt).getTime() : now;
  const elapsedSeconds = job.startedAt ? seconds(job.startedAt, end) : null;
  const average = elapsedSeconds ? worked / elapsedSeconds : null;
  const first = samples[0];
  const last = samples.at(-1);
  const measured =
    first && last && last.at > first.at
      ? ((last.worked - first.worked) * 1000) / (last.at - first.at)
      : null;
  const rate = finished ? average : (measured ?? average);
  const left = job.total - worked;
  const etaSeconds = !finished && rate && rate > 0 ? left / rate : null;
  return { worked, fraction, elapsedSeconds, rate, etaSeconds };
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
export function csvField(value: string | number | null | undefined): string {
  const text = value == null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record and its line break (LF: the same file the CLI writes for an import). */
export function csvLine(values: readonly (string | number | null | undefined)[]): string {
  return `${values.map(csvField).join(',')}\n`;
}

/** The columns of a job's failed rows as a CSV download (the CLI's errors file has the same). */
export const ERROR_CSV_COLUMNS = ['row', 'externalId', 'code', 'reason'] as const;
