/* eslint-disable @typescript-eslint/no-non-null-assertion -- resampling loops read typed arrays at
   indices that are in range by construction; noUncheckedIndexedAccess would otherwise type every
   read as `number | undefined`. */
/**
 * Separable resampling shared, formula for formula, with tools/model/preprocess.py
 * (`resize_weights`): exact area averaging when shrinking, bilinear with half-pixel centres when
 * enlarging. It is implemented here rather than left to libvips so that serving computes exactly
 * what training computed; the parity test holds both sides to cosine >= 0.999.
 */

/** For each output index, the input indices and weights that make it. */
export interface AxisWeights {
  index: Int32Array[];
  weight: Float64Array[];
}

export function resizeWeights(nIn: number, nOut: number): AxisWeights {
  const index: Int32Array[] = [];
  const weight: Float64Array[] = [];
  const scale = nIn / nOut;
  for (let i = 0; i < nOut; i++) {
    const js: number[] = [];
    const ws: number[] = [];
    if (nOut < nIn) {
      const lo = i * scale;
      const hi = (i + 1) * scale;
      for (let j = Math.floor(lo); j < nIn && j < hi; j++) {
        const overlap = Math.min(hi, j + 1) - Math.max(lo, j);
        if (overlap > 0) {
          js.push(j);
          ws.push(overlap / scale);
        }
      }
    } else {
      const src = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), nIn - 1);
      const j0 = Math.floor(src);
      const j1 = Math.min(j0 + 1, nIn - 1);
      const f = src - j0;
      if (j1 === j0) {
        js.push(j0);
        ws.push(1);
      } else {
        js.push(j0, j1);
        ws.push(1 - f, f);
      }
    }
    index.push(Int32Array.from(js));
    weight.push(Float64Array.from(ws));
  }
  return { index, weight };
}

/** Resize a single-channel float image (row-major `height` x `width`). */
export function resizePlane(
  src: Float64Array,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Float64Array {
  const wx = resizeWeights(width, outWidth);
  const wy = resizeWeights(height, outHeight);
  // Rows first (height x outWidth), then columns.
  const tmp = new Float64Array(height * outWidth);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < outWidth; x++) {
      const idx = wx.index[x]!;
      const wt = wx.weight[x]!;
      let acc = 0;
      for (let k = 0; k < idx.length; k++) acc += src[row + idx[k]!]! * wt[k]!;
      tmp[y * outWidth + x] = acc;
    }
  }
  const out = new Float64Array(outHeight * outWidth);
  for (let y = 0; y < outHeight; y++) {
    const idx = wy.index[y]!;
    const wt = wy.weight[y]!;
    for (let x = 0; x < outWidth; x++) {
      let acc = 0;
      for (let k = 0; k < idx.length; k++) acc += tmp[idx[k]! * outWidth + x]! * wt[k]!;
      out[y * outWidth + x] = acc;
    }
  }
  return out;
}
