export function formatPrice(price: number | null, currency: string | null): string {
  if (price == null) return '—';
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: currency ?? 'EUR' }).format(
      price,
    );
  } catch {
    return `${price.toFixed(2)} ${currency ?? ''}`.trim();
  }
}

export function formatDate(iso: string | null): string {
  if (!iso) return 'never';
  return (
    new Date(iso).toLocaleString('en-GB', {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'UTC',
    }) + ' UTC'
  );
}

/** A moment to the second (deliveries, retries): "1 Jan 2026, 12:00:05 UTC"; '—' for none. */
export function formatTimestamp(iso: string | null): string {
  if (!iso) return '—';
  return (
    new Date(iso).toLocaleString('en-GB', {
      dateStyle: 'medium',
      timeStyle: 'medium',
      timeZone: 'UTC',
    }) + ' UTC'
  );
}

export function formatNumber(value: number | null | undefined, digits = 3): string {
  return value == null || !Number.isFinite(value) ? '—' : value.toFixed(digits);
}

export function formatPercent(value: number | null | undefined): string {
  return value == null ? '—' : `${(value * 100).toFixed(1)}%`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Labels for display and the filter box: {"color":"red"} <-> color=red; '' for none (the API's
 * labels are a JSON object: anything else shows as none).
 */
export function labelsToText(labels: unknown): string {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) return '';
  return Object.entries(labels as Record<string, unknown>)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

/** "color=red, size=M" -> {color: "red", size: "M"}; null when a part is not key=value. */
export function parseLabelFilter(text: string): Record<string, string> | null {
  const out: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) return null;
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** A duration for people: "45 s", "3 min 20 s", "2 h 5 min". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}
