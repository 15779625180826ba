'use client';

import { boxStyle, productLabel } from '@/lib/detection';
import type { DetectedProduct, DetectedProductHits, ImageBox } from '@/lib/types';

/**
 * The detected products drawn over the query photo (inside RegionPicker's frame, in percentages
 * of the photo so they follow its displayed size): each a button that searches it, the searched
 * one highlighted, and the part of the photo the API searched (the main product with its margin)
 * outlined.
 */
export function DetectionBoxes({
  natural,
  objects,
  highlighted,
  searchedBox,
  onPick,
}: {
  natural: { w: number; h: number };
  objects: readonly DetectedProduct[];
  highlighted: number | null;
  /** Outlined when it is the detector's pick (a region is drawn by RegionPicker itself). */
  searchedBox: ImageBox | null;
  onPick: (index: number) => void;
}) {
  return (
    <>
      {searchedBox && (
        <div
          className="searched-area"
          style={boxStyle(searchedBox, natural)}
          data-testid="searched-box"
          aria-hidden="true"
        />
      )}
      {objects.map((o, i) => {
        const label = productLabel(o);
        const on = i === highlighted;
        return (
          <button
            key={`${o.box.x},${o.box.y},${o.box.width},${o.box.height}`}
            type="button"
            className="det-box"
            data-testid="detected-box"
            data-searched={on}
            data-box={`${o.box.x},${o.box.y},${o.box.width},${o.box.height}`}
            // No room above a box at the photo's top edge (the frame clips): the label goes inside.
            data-label-inside={o.box.y < natural.h * 0.07}
            aria-pressed={on}
            aria-label={`Search ${label} (${o.box.width}×${o.box.height} at ${o.box.x},${o.box.y})`}
            style={boxStyle(o.box, natural)}
            onClick={() => {
              onPick(i);
            }}
          >
            <span className="det-label">{label}</span>
          </button>
        );
      })}
    </>
  );
}

/** Each detected product's nearest few, in a compact strip under the photo. */
export function ObjectStrip({
  objects,
  highlighted,
}: {
  objects: readonly DetectedProductHits[];
  highlighted: number | null;
}) {
  if (objects.length === 0) return null;
  return (
    <ul className="object-strip" aria-label="Detected products and their nearest products">
      {objects.map((o, i) => (
        <li
          key={`${o.box.x},${o.box.y},${o.box.width},${o.box.height}`}
          data-searched={i === highlighted}
          data-testid="object-hits"
        >
          <span className="small det-name">{productLabel(o)}</span>
          <span className="object-thumbs">
            {o.hits.map((h) => (
              <a
                key={h.productId}
                href={`/catalog/${h.productId}`}
                title={`${h.title} (${h.externalId}) · score ${h.score.toFixed(4)}`}
                data-external-id={h.externalId}
              >
                <img src={`/images/${h.sha256}?w=64`} alt={h.title} loading="lazy" />
              </a>
            ))}
            {o.hits.length === 0 && <span className="small muted">no hits</span>}
          </span>
        </li>
      ))}
    </ul>
  );
}
