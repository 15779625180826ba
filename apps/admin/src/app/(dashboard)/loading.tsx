export default function Loading() {
  return (
    <div className="stack" aria-busy="true" aria-live="polite">
      <span className="sr-only">Loading…</span>
      <div className="skeleton" style={{ width: 220, height: 28 }} />
      <div className="skeleton" style={{ height: 44 }} />
      <div className="product-grid">
        {Array.from({ length: 12 }, (_, i) => (
          <div key={i} className="skeleton" style={{ aspectRatio: '0.8' }} />
        ))}
      </div>
    </div>
  );
}
