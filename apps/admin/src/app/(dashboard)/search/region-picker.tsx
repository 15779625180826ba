'use client';

import { useRef, useState, type ReactNode } from 'react';

/** A box in the photo's own pixels (EXIF-rotated, as the browser shows it and the API reads it). */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

const MIN_SIDE = 8;
/** Screen pixels the pointer moves before a press becomes a drag (a shorter one is a click). */
const DRAG_START = 4;

interface Drag {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Past DRAG_START: a drag (the pointer is captured), not a click. */
  moved: boolean;
  /** It started on a button drawn over the photo (a detected box): a click is the button's. */
  onButton: boolean;
}

/**
 * The query photo; drag on it to draw the region to search. The number fields below do the same
 * for the keyboard. `overlay` is drawn over the photo (the detected boxes, in the photo's natural
 * pixels); a click on a button in it is the button's, a drag from it still draws a region.
 */
export function RegionPicker({
  src,
  region,
  onChange,
  overlay,
}: {
  src: string;
  region: Region | null;
  onChange: (r: Region | null) => void;
  overlay?: (natural: { w: number; h: number }) => ReactNode;
}) {
  const img = useRef<HTMLImageElement>(null);
  const [natural, setNatural] = useState<{ w: number; h: number } | null>(null);
  const [drag, setDragState] = useState<Drag | null>(null);
  // The handlers read the drag from a ref: pointer events can come faster than renders.
  const dragging = useRef<Drag | null>(null);
  const setDrag = (d: Drag | null) => {
    dragging.current = d;
    setDragState(d);
  };

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

  const shown = drag?.moved
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
          if (e.button !== 0) return;
          const p = point(e);
          const onButton = e.target instanceof Element && e.target.closest('button') !== null;
          setDrag({ x0: p.x, y0: p.y, x1: p.x, y1: p.y, moved: false, onButton });
        }}
        onPointerMove={(e) => {
          const drag = dragging.current;
          if (!drag) return;
          const p = point(e);
          const moved =
            drag.moved ||
            Math.abs(p.x - drag.x0) > DRAG_START ||
            Math.abs(p.y - drag.y0) > DRAG_START;
          // Captured only once it is a drag, so a click on a box still reaches the box.
          if (moved && !drag.moved) e.currentTarget.setPointerCapture(e.pointerId);
          setDrag({ ...drag, x1: p.x, y1: p.y, moved });
        }}
        onPointerUp={() => {
          const drag = dragging.current;
          if (!drag) return;
          setDrag(null);
          if (!drag.moved && drag.onButton) return;
          const r = drag.moved ? toRegion(drag) : null;
          if (r || region) onChange(r);
        }}
        onPointerCancel={() => {
          setDrag(null);
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
        {natural && overlay?.(natural)}
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
