'use client';

import type { SimilarityMetric } from '@/lib/types';

/** A threshold on the metric's scale: a range slider and a number field that agree. */
export function ThresholdSlider({
  id,
  label,
  metric,
  value,
  range,
  onChange,
}: {
  id: string;
  label: string;
  metric: SimilarityMetric;
  value: number;
  range: { min: number; max: number; step: number };
  onChange: (value: number) => void;
}) {
  const unit = metric === 'COSINE' ? 'minimum similarity' : 'maximum distance';
  return (
    <div className="field">
      <label htmlFor={id}>
        {label} <span className="muted small">({unit})</span>
      </label>
      <div className="row" style={{ flexWrap: 'nowrap' }}>
        <input
          id={id}
          type="range"
          min={range.min}
          max={range.max}
          step={range.step}
          value={Math.min(range.max, Math.max(range.min, value))}
          aria-valuetext={`${value.toFixed(3)} ${unit}`}
          onChange={(e) => {
            onChange(Number(e.target.value));
          }}
        />
        <input
          type="number"
          aria-label={`${label} value`}
          className="num"
          style={{ width: 110 }}
          step={range.step}
          min={metric === 'COSINE' ? -1 : 0}
          max={metric === 'COSINE' ? 1 : undefined}
          value={Number(value.toFixed(4))}
          onChange={(e) => {
            const v = Number(e.target.value);
            if (e.target.value !== '' && Number.isFinite(v)) onChange(v);
          }}
        />
      </div>
    </div>
  );
}
