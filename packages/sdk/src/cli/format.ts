// Output helpers of the CLI: tables, durations, CSV, the progress line.
import type { IngestJob } from '../client.js';

/** Columns padded to their widest cell; numbers right-aligned. */
export function table(header: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c == null ? '' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'),
  );
  return cells
    .map((r) =>
      r
        .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function seconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** One CSV field: quoted when it holds a comma, quote or line break. */
export function csvField(value: string | number | null | undefined): string {
  const text = value == null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: (string | number | null | undefined)[]): string {
  return `${values.map(csvField).join(',')}\n`;
}

/** What the progress bar shows of a job: a bar, rows done and failed, the rate and an ETA. */
export function progressLine(job: IngestJob, elapsedSeconds: number, width = 30): string {
  const finished = job.done + job.failed;
  const fraction = job.total > 0 ? finished / job.total : 0;
  const filled = Math.round(fraction * width);
  const rate = elapsedSeconds > 0 ? finished / elapsedSeconds : 0;
  const eta = rate > 0 ? (job.total - finished) / rate : Infinity;
  return (
    `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${finished}/${job.total} rows` +
    ` (${job.done} done, ${job.failed} failed) ${rate.toFixed(1)} rows/s` +
    (finished < job.total ? ` ETA ${seconds(eta)}` : '') +
    ` ${job.status}`
  );
}
