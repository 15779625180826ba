import { describe, expect, it } from 'vitest';
import { sniffImageType } from './sniff.js';

const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(
    parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)),
  );

describe('sniffImageType', () => {
  it.each([
    ['image/jpeg', bytes([0xff, 0xd8, 0xff, 0xe0], 'JFIF')],
    ['image/png', bytes([0x89], 'PNG\r\n\x1a\n', [0, 0])],
    ['image/gif', bytes('GIF89a', [1, 0])],
    ['image/gif', bytes('GIF87a')],
    ['image/webp', bytes('RIFF', [0, 0, 0, 0], 'WEBPVP8 ')],
    ['image/tiff', bytes('II*\0', [8, 0, 0, 0])],
    ['image/tiff', bytes('MM\0*', [0, 0, 0, 8])],
    ['image/avif', bytes([0, 0, 0, 28], 'ftypavif', [0, 0, 0, 0], 'avifmif1miaf')],
    ['image/avif', bytes([0, 0, 0, 24], 'ftypmif1', [0, 0, 0, 0], 'avifmiaf')],
    ['image/heic', bytes([0, 0, 0, 24], 'ftypheic', [0, 0, 0, 0], 'mif1heic')],
  ])('recognises %s', (mime, data) => {
    expect(sniffImageType(data)).toBe(mime);
  });

  it.each([
    ['empty', bytes()],
    ['text', bytes('hello world')],
    ['PDF', bytes('%PDF-1.7')],
    ['SVG', bytes('<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['MP4 video', bytes([0, 0, 0, 24], 'ftypisom', [0, 0, 0, 0], 'isomavc1')],
    ['RIFF audio', bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt ')],
    ['two JPEG bytes', bytes([0xff, 0xd8])],
  ])('returns null for %s', (_name, data) => {
    expect(sniffImageType(data)).toBeNull();
  });
});
