import type { CatalogService, Principal } from '@lookalike/core';
import type { ImageRecord } from '@lookalike/db';
import DataLoader from 'dataloader';

export interface Context {
  principal: Principal;
  /** Base URL for links this API serves (image URLs). */
  baseUrl: string;
  /** Per-request batching: the images of a page of products in one query. */
  imagesByProduct: DataLoader<string, ImageRecord[]>;
}

export function createContext(
  principal: Principal,
  baseUrl: string,
  catalog: CatalogService,
): Context {
  return {
    principal,
    baseUrl,
    imagesByProduct: new DataLoader(async (productIds) => {
      const grouped = await catalog.imagesOf(principal.merchantId, productIds);
      return productIds.map((id) => grouped.get(id) ?? []);
    }),
  };
}
