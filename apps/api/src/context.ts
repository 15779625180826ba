import type { ImageRecord } from '@lookalike/db';
import DataLoader from 'dataloader';
import type { Principal } from './auth/api-key.service.js';
import type { Services } from './services/index.js';

export interface Context {
  principal: Principal;
  /** Base URL for links this API serves (image URLs). */
  baseUrl: string;
  services: Services;
  /** Per-request batching: the images of a page of products in one query. */
  imagesByProduct: DataLoader<string, ImageRecord[]>;
}

export function createContext(principal: Principal, baseUrl: string, services: Services): Context {
  return {
    principal,
    baseUrl,
    services,
    imagesByProduct: new DataLoader(async (productIds) => {
      const grouped = await services.catalog.imagesOf(principal.merchantId, productIds);
      return productIds.map((id) => grouped.get(id) ?? []);
    }),
  };
}
