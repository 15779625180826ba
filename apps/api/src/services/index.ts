import type { Db } from '@lookalike/db';
import type { Embedder } from '@lookalike/inference';
import { ApiKeyService } from '../auth/api-key.service.js';
import type { ImageStore } from '../storage/image-store.js';
import { CatalogService } from './catalog.service.js';
import { EvaluationService } from './evaluation.service.js';
import { SearchService } from './search.service.js';
import { SettingsService } from './settings.service.js';

export interface Services {
  db: Db;
  embedder: Embedder;
  apiKeys: ApiKeyService;
  catalog: CatalogService;
  settings: SettingsService;
  search: SearchService;
  evaluation: EvaluationService;
}

export function createServices(
  db: Db,
  embedder: Embedder,
  store: ImageStore,
  maxUploadBytes: number,
): Services {
  const settings = new SettingsService(db, embedder.info);
  return {
    db,
    embedder,
    apiKeys: new ApiKeyService(db),
    catalog: new CatalogService(db, embedder, store, maxUploadBytes),
    settings,
    search: new SearchService(db, embedder, settings, maxUploadBytes),
    evaluation: new EvaluationService(db, embedder.info.key, settings),
  };
}
