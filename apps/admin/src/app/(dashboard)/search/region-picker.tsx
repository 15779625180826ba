'use client';

import { useRef, useState } from 'react';

/** A box in the photo's own pixels (EXIF-rotated, as the browser shows it and the API reads it). */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

const MIN_SIDE = 8;

/**
 * The query photo; drag on it to draw the region to search. The number fields below do the same
 * for the keyboard.
 */
export function RegionPicker({
  src,
  region,
  onChange,
}: {
  src: string;
  region: Region | null;
  onChange: (r: Region | null) => void;
}) {
  const img = useRef<HTMLImageElement>(null);
  const [natural, setNatural] = useState<{ w: number; h: number } | null>(null);
  const [drag, setDrag] = useState<{ x0: number; y0: number; x1: number; y1: number } | null>(null);

  /** Display px per natural px. */
  const scale = () => (img.current && natural ? img.current.clientWidth / natural.w : 1);
  const point = (e: React.PointerEvent) => {
    const box = img.current?.getBoundingClientRect();
    if (!box) return { x: 0, y: 0 };
    return {
      x: Math.min(Math.max(e.clientX - box.left, 0), box.width),
      y: Math.min(Math.max(e.clientY - box.top, 0), box.height),
    };
  };
  const toRegion = (d: NonNullable<typeof drag>): Region | null => {
    if (!natural) return null;
    const s = scale();
    const x = Math.round(Math.min(d.x0, d.x1) / s);
    const y = Math.round(Math.min(d.y0, d.y1) / s);
    const width = Math.min(natural.w - x, Math.round(Math.abs(d.x1 - d.x0) / s));
    const height = Math.min(natural.h - y, Math.round(Math.abs(d.y1 - d.y0) / s));
    return width >= MIN_SIDE && height >= MIN_SIDE ? { x, y, width, height } : null;
  };

  const shown = drag
    ? {
        left: Math.min(drag.x0, drag.x1),
        top: Math.min(drag.y0, drag.y1),
        width: Math.abs(drag.x1 - drag.x0),
        height: Math.abs(drag.y1 - drag.y0),
      }
    : region
      ? {
          left: region.x * scale(),
          top: region.y * scale(),
          width: region.width * scale(),
          height: region.height * scale(),
        }
      : null;

  const setField = (k: keyof Region, v: number) => {
    if (!natural) return;
    const base = region ?? { x: 0, y: 0, width: natural.w, height: natural.h };
    const next = { ...base, [k]: Math.max(0, Math.round(v)) };
    next.width = Math.min(next.width, natural.w - next.x);
    next.height = Math.min(next.height, natural.h - next.y);
    onChange(next.width >= MIN_SIDE && next.height >= MIN_SIDE ? next : null);
  };

  return (
    <div className="stack" style={{ gap: '0.5rem' }}>
      <div
        className="query-image"
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          const p = point(e);
          setDrag({ x0: p.x, y0: p.y, x1: p.x, y1: p.y });
        }}
        onPointerMove={(e) => {
          if (!drag) return;
          const p = point(e);
          setDrag({ ...drag, x1: p.x, y1: p.y });
        }}
        onPointerUp={() => {
          if (!drag) return;
          const r = toRegion(drag);
          setDrag(null);
          if (r || region) onChange(r);
        }}
      >
        <img
          ref={img}
          src={src}
          alt="Query photo"
          draggable={false}
          onLoad={(e) => {
            setNatural({ w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight });
          }}
        />
        {shown && <div className="region" style={shown} aria-hidden="true" />}
      </div>
      {natural && (
        <details>
          <summary className="small">
            {region
              ? `Region ${region.width}×${region.height} at ${region.x},${region.y}`
              : `Whole photo (${natural.w}×${natural.h})`}
          </summary>
          <div className="row small" style={{ marginTop: '0.5rem' }}>
            {(['x', 'y', 'width', 'height'] as const).map((k) => (
              <label key={k} className="check">
                {k}
                <input
                  type="number"
                  style={{ width: 76 }}
                  min={0}
                  defaultValue={
                    region ? region[k] : k === 'width' ? natural.w : k === 'height' ? natural.h : 0
                  }
                  key={`${k}-${region ? region[k] : 'none'}`}
                  onBlur={(e) => {
                    setField(k, Number(e.target.value));
                  }}
                />
              </label>
            ))}
            {region && (
              <button
                type="button"
                onClick={() => {
                  onChange(null);
                }}
              >
                Whole photo
              </button>
            )}
          </div>
        </details>
      )}
    </div>
  );
}
