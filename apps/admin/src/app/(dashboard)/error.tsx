'use client';

export default function DashboardError({
  error,
  reset,
}: {
  error: Error & { digest?: string };
  reset: () => void;
}) {
  return (
    <div className="stack" style={{ maxWidth: 640 }}>
      <h1>This page could not load</h1>
      <div role="alert" className="alert error">
        {/* In production Next.js replaces server errors' messages; the digest finds it in the log. */}
        {error.digest
          ? 'The dashboard server hit an error while building this page.'
          : error.message}
        {error.digest && (
          <div className="small muted">
            Reference {error.digest} (in the dashboard server&apos;s log).
          </div>
        )}
      </div>
      <div>
        <button type="button" className="primary" onClick={reset}>
          Try again
        </button>
      </div>
    </div>
  );
}
