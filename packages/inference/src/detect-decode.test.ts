import { describe, expect, it } from 'vitest';
import {
  boxIoU,
  decodeDetections,
  type DecodeParams,
  type DetectorOutputs,
} from './detect-decode.js';

// A 16x16 input with stride 4: a 4x4 grid, 3 classes. Small enough to reason about by hand.
const SIZE = 16;
const STRIDE = 4;
const GRID = SIZE / STRIDE;
const CELLS = GRID * GRID;
const CLASSES = ['shirt', 'shoe', 'bag'];

function outputs(): DetectorOutputs {
  return {
    heatmap: new Float32Array(CLASSES.length * CELLS),
    size: new Float32Array(2 * CELLS),
    offset: new Float32Array(2 * CELLS),
  };
}

/** A peak of `score` for `cls` at cell (x, y): centre offset (ox, oy) cells, box w x h input px. */
function peak(
  o: DetectorOutputs,
  cls: number,
  x: number,
  y: number,
  score: number,
  { w = 4, h = 4, ox = 0.5, oy = 0.5 } = {},
) {
  const cell = y * GRID + x;
  o.heatmap[cls * CELLS + cell] = score;
  o.size[cell] = w / SIZE;
  o.size[CELLS + cell] = h / SIZE;
  o.offset[cell] = ox;
  o.offset[CELLS + cell] = oy;
}

const params = (p: Partial<DecodeParams> = {}): DecodeParams => ({
  classes: CLASSES,
  inputSize: SIZE,
  stride: STRIDE,
  minScore: 0.3,
  maxObjects: 10,
  nmsIoU: 0.5,
  scale: 1,
  ...p,
});

// Values exactly representable in float32, so scores compare with toBe.
const S = (v: number) => Math.fround(v);

describe('decodeDetections', () => {
  it('turns a peak into a box from its cell, offset and size, with its class', () => {
    const o = outputs();
    // Centre ((1 + 0.5) * 4, (2 + 0.25) * 4) = (6, 9); 4 x 6 px.
    peak(o, 2, 1, 2, 0.75, { w: 4, h: 6, ox: 0.5, oy: 0.25 });
    expect(decodeDetections(o, params())).toEqual([
      {
        box: { x: 4, y: 6, width: 4, height: 6 },
        bounds: [4, 6, 8, 12],
        score: 0.75,
        classIndex: 2,
        category: 'bag',
      },
    ]);
  });

  it('keeps peaks at or above minScore, best first, ties in [class][y][x] order', () => {
    const o = outputs();
    peak(o, 0, 0, 0, S(0.29)); // below
    peak(o, 1, 3, 0, S(0.3)); // exactly minScore: kept
    peak(o, 0, 3, 3, S(0.6));
    peak(o, 2, 0, 3, S(0.9));
    peak(o, 1, 0, 3 - 3, S(0.6)); // same score as the class-0 one: after it (later class)
    const found = decodeDetections(o, params());
    expect(found.map((d) => [d.classIndex, d.score])).toEqual([
      [2, S(0.9)],
      [0, S(0.6)],
      [1, S(0.6)],
      [1, S(0.3)],
    ]);
    expect(decodeDetections(o, params({ minScore: 0.61 })).map((d) => d.score)).toEqual([S(0.9)]);
  });

  it('drops a box overlapping a better one by more than nmsIoU, whatever its class', () => {
    const o = outputs();
    // Same 8x8 box centred at (6, 6) for class 0 (cell 1,1) ...
    peak(o, 0, 1, 1, 0.9, { w: 8, h: 8, ox: 0.5, oy: 0.5 });
    // ... and at (8, 6) for class 1 (cell 2,1, offset 0): IoU = 6*8 / (64 + 64 - 48) = 0.6.
    peak(o, 1, 2, 1, 0.8, { w: 8, h: 8, ox: 0, oy: 0.5 });
    expect(boxIoU([2, 2, 10, 10], [4, 2, 12, 10])).toBeCloseTo(0.6, 10);
    expect(decodeDetections(o, params()).map((d) => d.classIndex)).toEqual([0]);
    // At a threshold of 0.6 an IoU of 0.6 is not more than it: both stay.
    expect(decodeDetections(o, params({ nmsIoU: 0.6 })).map((d) => d.classIndex)).toEqual([0, 1]);
  });

  it('returns at most maxObjects, considering only the best 4 * maxObjects peaks', () => {
    const o = outputs();
    const spots = [
      [0, 0],
      [3, 0],
      [0, 3],
      [3, 3],
    ] as const;
    spots.forEach(([x, y], i) => {
      peak(o, 0, x, y, S(0.9 - i / 10), { w: 2, h: 2 });
    });
    expect(decodeDetections(o, params({ maxObjects: 2 })).map((d) => d.score)).toEqual([
      S(0.9),
      S(0.9 - 1 / 10),
    ]);

    // Nine peaks of one and the same 8x8 box centred at (8, 8) (four cells whose offsets point
    // there, in three classes: all but the first suppressed), then a separate object: with
    // maxObjects 2 only the best 8 peaks are looked at, as the reference does, so the separate
    // one is never reached; with 3 it is.
    const q = outputs();
    const toCentre = [
      [1, 1, 1, 1],
      [2, 2, 0, 0],
      [1, 2, 1, 0],
      [2, 1, 0, 1],
    ] as const;
    for (let k = 0; k < 9; k++) {
      const [x, y, ox, oy] = toCentre[k % 4]!;
      peak(q, Math.floor(k / 4), x, y, S(0.95 - k / 100), { w: 8, h: 8, ox, oy });
    }
    peak(q, 0, 0, 3, S(0.5), { w: 2, h: 2 });
    expect(decodeDetections(q, params({ maxObjects: 2 })).map((d) => d.score)).toEqual([S(0.95)]);
    expect(decodeDetections(q, params({ maxObjects: 3 })).map((d) => d.score)).toEqual([
      S(0.95),
      S(0.5),
    ]);
  });

  it('maps boxes back through the scale and the region origin', () => {
    const o = outputs();
    // In the input: centre (6, 6), 4 x 4 -> [4, 4, 8, 8]. The input shows a 32x16 region at
    // (100, 50) at scale 16 / 32 = 0.5: in the image [108, 58, 116, 66].
    peak(o, 0, 1, 1, 0.8);
    const [d] = decodeDetections(
      o,
      params({ scale: 0.5, crop: { left: 100, top: 50, width: 32, height: 16 } }),
    );
    expect(d?.bounds).toEqual([108, 58, 116, 66]);
    expect(d?.box).toEqual({ x: 108, y: 58, width: 8, height: 8 });
  });

  it('clamps to the crop and covers the exact box with whole pixels', () => {
    const o = outputs();
    // Centre (2.2, 13.8), 6 x 6: [-0.8, 10.8, 5.2, 16.8] -> clamped [0, 10.8, 5.2, 16].
    peak(o, 0, 0, 3, 0.8, { w: 6, h: 6, ox: 0.55, oy: 0.45 });
    const [d] = decodeDetections(o, params());
    expect(d?.bounds[0]).toBe(0);
    expect(d?.bounds[1]).toBeCloseTo(10.8, 5);
    expect(d?.bounds[2]).toBeCloseTo(5.2, 5);
    expect(d?.bounds[3]).toBe(16);
    expect(d?.box).toEqual({ x: 0, y: 10, width: 6, height: 6 });
  });

  it('skips a peak in the letterbox padding: it does not count towards maxObjects', () => {
    const o = outputs();
    // A 16x8 picture at scale 1: rows 8-15 of the input are padding.
    const crop = { left: 0, top: 0, width: 16, height: 8 };
    peak(o, 0, 1, 3, 0.9, { w: 2, h: 2 }); // centre (6, 14): entirely in the padding
    peak(o, 1, 1, 1, 0.8, { w: 12, h: 12 }); // centre (6, 6): overhangs into it
    const found = decodeDetections(o, params({ crop, maxObjects: 1 }));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ classIndex: 1, box: { x: 0, y: 0, width: 12, height: 8 } });
  });

  it('refuses outputs that do not fit the geometry', () => {
    const o = outputs();
    expect(() => decodeDetections(o, params({ classes: ['one'] }))).toThrow(RangeError);
    expect(() => decodeDetections({ ...o, size: new Float32Array(3) }, params())).toThrow(
      /do not fit 3 classes on a 4x4 grid/,
    );
  });
});
