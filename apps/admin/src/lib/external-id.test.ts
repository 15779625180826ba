import { describe, expect, it } from 'vitest';
import { externalIdFromFileName, titleFromFileName } from './external-id';
import { parseLabelFilter } from './format';

describe('externalIdFromFileName', () => {
  it('takes the name without folders and extension', () => {
    expect(externalIdFromFileName('SKU-123.jpg', 'name')).toBe('SKU-123');
    expect(externalIdFromFileName('shoes/summer/SKU-9.back.png', 'name')).toBe('SKU-9.back');
    expect(externalIdFromFileName('C:\\photos\\A1.webp', 'name')).toBe('A1');
  });

  it('cuts at the first underscore for several images per product', () => {
    expect(externalIdFromFileName('SKU-1_front.jpg', 'prefix')).toBe('SKU-1');
    expect(externalIdFromFileName('SKU-1.jpg', 'prefix')).toBe('SKU-1');
    expect(externalIdFromFileName('_odd.jpg', 'prefix')).toBe('_odd');
  });

  it('gives none for an empty name', () => {
    expect(externalIdFromFileName('.jpg', 'name')).toBe('.jpg');
    expect(externalIdFromFileName('   .png', 'name')).toBeNull();
  });
});

describe('titleFromFileName', () => {
  it('makes words of the name', () => {
    expect(titleFromFileName('blue-denim_jacket.jpg')).toBe('Blue denim jacket');
    expect(titleFromFileName('---.jpg')).toBe('Untitled product');
  });
});

describe('parseLabelFilter', () => {
  it('reads key=value pairs and refuses anything else', () => {
    expect(parseLabelFilter('color=red, size = M')).toEqual({ color: 'red', size: 'M' });
    expect(parseLabelFilter('')).toEqual({});
    expect(parseLabelFilter('red')).toBeNull();
    expect(parseLabelFilter('color=')).toBeNull();
  });
});
