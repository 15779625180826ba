// The playground's detected products: the boxes drawn over the query photo, the one searched, and
// what a click on a box searches. Pure functions, shared by the page and its tests.
import type { DetectedProduct, ImageBox } from './types';

/**
 * The share of a detected box's size the API adds on each side before it searches it
 * (DETECTION_MARGIN in packages/core/src/search/search.service.ts; the browser test checks they
 * agree). A click on a box searches the box grown the same way, so clicking the product the API
 * picked gives the same results as the first search, and each box's results are those of its
 * `objects` entry.
 */
export const DETECTION_MARGIN = 0.06;

/** A box grown by `margin` of its size on each side, clamped to a width x height image. */
export function growBox(box: ImageBox, width: number, height: number, margin: number): ImageBox {
  const mx = Math.round(box.width * margin);
  const my = Math.round(box.height * margin);
  const x = Math.max(0, box.x - mx);
  const y = Math.max(0, box.y - my);
  return {
    x,
    y,
    width: Math.max(0, Math.min(width, box.x + box.width + mx) - x),
    height: Math.max(0, Math.min(height, box.y + box.height + my) - y),
  };
}

/** What a click on a detected box searches, in the photo's pixels. */
export function clickRegion(box: ImageBox, natural: { w: number; h: number }): ImageBox {
  return growBox(box, natural.w, natural.h, DETECTION_MARGIN);
}

export function sameBox(a: ImageBox, b: ImageBox): boolean {
  return a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
}

/** "Dress 0.91": the detector's category (or "Product") and its confidence. */
export function productLabel(p: Pick<DetectedProduct, 'category' | 'score'>): string {
  return `${p.category ?? 'Product'} ${p.score.toFixed(2)}`;
}

/** A box as CSS percentages of the photo it lies on, so it follows the photo's displayed size. */
export function boxStyle(
  box: ImageBox,
  natural: { w: number; h: number },
): { left: string; top: string; width: string; height: string } {
  const pct = (v: number, of: number) => `${((v / of) * 100).toFixed(3)}%`;
  return {
    left: pct(box.x, natural.w),
    top: pct(box.y, natural.h),
    width: pct(box.width, natural.w),
    height: pct(box.height, natural.h),
  };
}

/** What the last photo search searched, as the playground keeps it. */
export interface Searched {
  /** The part of the photo the API searched (null: not a photo search). */
  box: ImageBox | null;
  /** The detected product the API picked (no region was sent). */
  detection: DetectedProduct | null;
  /** The index of the box the user clicked, when that was the search. */
  picked: number | null;
  /** The region sent (a click's or a drag's), null: none. */
  region: ImageBox | null;
  /** Detection was asked for. */
  detect: boolean;
}

/** The detected box that was searched: the one clicked, or the one the API picked; null: none. */
export function searchedIndex(
  objects: readonly DetectedProduct[],
  searched: Searched | null,
): number | null {
  if (!searched) return null;
  if (searched.picked !== null) return searched.picked < objects.length ? searched.picked : null;
  const d = searched.detection;
  if (!d) return null;
  const i = objects.findIndex((o) => sameBox(o.box, d.box));
  return i >= 0 ? i : null;
}

/** The sentence under the photo that says what was searched. */
export function searchedText(objects: readonly DetectedProduct[], searched: Searched): string {
  const i = searchedIndex(objects, searched);
  const picked = i !== null ? objects[i] : undefined;
  if (picked) return `Searched: ${productLabel(picked)}`;
  if (searched.detection) return `Searched: ${productLabel(searched.detection)}`;
  const r = searched.region;
  if (r) return `Searched the region ${r.width}×${r.height} at ${r.x},${r.y}`;
  if (!searched.detect) return 'Searched the whole photo (detection off)';
  return 'Searched the whole photo (no product detected)';
}
