import { describe, expect, it } from 'vitest';
import {
  boxStyle,
  clickRegion,
  DETECTION_MARGIN,
  growBox,
  productLabel,
  searchedIndex,
  searchedText,
  type Searched,
} from './detection';
import type { DetectedProduct } from './types';

const dress: DetectedProduct = {
  box: { x: 100, y: 50, width: 200, height: 100 },
  score: 0.912,
  category: 'Dress',
};
const bag: DetectedProduct = {
  box: { x: 400, y: 60, width: 80, height: 120 },
  score: 0.47,
  category: null,
};
const objects = [dress, bag];
const searched = (s: Partial<Searched>): Searched => ({
  box: null,
  detection: null,
  picked: null,
  region: null,
  detect: true,
  ...s,
});

describe('growBox / clickRegion', () => {
  it('grows by the margin of the box on each side, rounded, as the API does', () => {
    expect(growBox(dress.box, 1000, 1000, 0.06)).toEqual({ x: 88, y: 44, width: 224, height: 112 });
    expect(clickRegion(dress.box, { w: 1000, h: 1000 })).toEqual(
      growBox(dress.box, 1000, 1000, DETECTION_MARGIN),
    );
  });

  it('clamps to the photo', () => {
    expect(growBox({ x: 2, y: 0, width: 100, height: 50 }, 100, 52, 0.1)).toEqual({
      x: 0,
      y: 0,
      width: 100,
      height: 52,
    });
    expect(growBox({ x: 0, y: 0, width: 10, height: 10 }, 10, 10, 0.5)).toEqual({
      x: 0,
      y: 0,
      width: 10,
      height: 10,
    });
  });
});

describe('productLabel / boxStyle', () => {
  it('names the category (or Product) and the score to two places', () => {
    expect(productLabel(dress)).toBe('Dress 0.91');
    expect(productLabel(bag)).toBe('Product 0.47');
  });

  it('places a box in percentages of the photo', () => {
    expect(boxStyle(dress.box, { w: 800, h: 200 })).toEqual({
      left: '12.500%',
      top: '25.000%',
      width: '25.000%',
      height: '50.000%',
    });
  });
});

describe('what was searched', () => {
  it("highlights the API's pick by its box, or the box clicked", () => {
    expect(searchedIndex(objects, null)).toBeNull();
    expect(searchedIndex(objects, searched({ detection: bag }))).toBe(1);
    expect(searchedIndex(objects, searched({ detection: dress, picked: 1 }))).toBe(1);
    expect(searchedIndex(objects, searched({ picked: 0, region: dress.box }))).toBe(0);
    // Boxes it does not know (another photo's), none.
    expect(searchedIndex([], searched({ detection: dress }))).toBeNull();
    expect(searchedIndex([], searched({ picked: 0 }))).toBeNull();
  });

  it('says it in a sentence', () => {
    expect(searchedText(objects, searched({ detection: dress }))).toBe('Searched: Dress 0.91');
    expect(searchedText(objects, searched({ picked: 1, region: bag.box }))).toBe(
      'Searched: Product 0.47',
    );
    expect(searchedText([], searched({ detection: dress }))).toBe('Searched: Dress 0.91');
    expect(searchedText(objects, searched({ region: { x: 1, y: 2, width: 30, height: 40 } }))).toBe(
      'Searched the region 30×40 at 1,2',
    );
    expect(searchedText(objects, searched({}))).toBe(
      'Searched the whole photo (no product detected)',
    );
    expect(searchedText([], searched({ detect: false }))).toBe(
      'Searched the whole photo (detection off)',
    );
  });
});
