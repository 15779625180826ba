import type { CatalogService, DetectionMemo, EmbeddingMemo, Principal } from '@lookalike/core';
import type { ImageRecord } from '@lookalike/db';
import DataLoader from 'dataloader';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';

export interface Context {
  principal: Principal;
  /** Base URL for links this API serves (image URLs). */
  baseUrl: string;
  /** Per-request batching: the images of a page of products in one query. */
  imagesByProduct: DataLoader<string, ImageRecord[]>;
  /**
   * Per request: each upload read once, each photo embedded once and detected once, however
   * many aliased fields use it (the dashboard searches one photo with both metrics in one
   * operation).
   */
  uploads: Map<Promise<FileUpload>, Promise<Buffer>>;
  embeddings: EmbeddingMemo;
  detections: DetectionMemo;
}

export function createContext(
  principal: Principal,
  baseUrl: string,
  catalog: CatalogService,
): Context {
  return {
    principal,
    baseUrl,
    uploads: new Map(),
    embeddings: new Map(),
    detections: new Map(),
    imagesByProduct: new DataLoader(async (productIds) => {
      const grouped = await catalog.imagesOf(principal.merchantId, productIds);
      return productIds.map((id) => grouped.get(id) ?? []);
    }),
  };
}
