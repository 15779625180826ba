import type { Db } from '@lookalike/db';
import type { MetricThresholds } from '@lookalike/inference';
import { notFound } from '../errors.js';
import { toApiKeyInfo, type ApiKeyInfo, type Principal } from '../keys/api-key.service.js';
import type { ModelRegistry } from '../models/model-registry.js';
import type { ServingModels } from '../settings/serving.js';

export interface Viewer {
  merchant: { id: string; name: string };
  apiKey: ApiKeyInfo;
  /** The model serving this merchant's searches. */
  model: {
    key: string;
    dims: number;
    /** Where this process runs it: cpu or cuda; null when this process does not load it. */
    executionProvider: 'cpu' | 'cuda' | null;
    defaults: { cosine: MetricThresholds; euclidean: MetricThresholds };
  };
}

/** Who is asking: the merchant, its key and the model that serves it. */
export class AccountService {
  constructor(
    private readonly db: Db,
    private readonly registry: ModelRegistry,
    private readonly serving: ServingModels,
  ) {}

  async viewer(principal: Principal): Promise<Viewer> {
    const { merchantId, keyId } = principal;
    const [merchant, key, serving] = await Promise.all([
      this.db.merchants.get(merchantId),
      this.db.apiKeys.get(merchantId, keyId),
      this.serving.get(merchantId),
    ]);
    if (!merchant || !key) throw notFound('merchant');
    const model = serving.modelId;
    return {
      merchant: { id: merchant.id, name: merchant.name },
      apiKey: toApiKeyInfo(key),
      model: {
        key: model,
        dims: serving.dims,
        executionProvider: this.registry.get(model)?.info.executionProvider ?? null,
        defaults: {
          cosine: this.registry.defaults(model, 'cosine'),
          euclidean: this.registry.defaults(model, 'euclidean'),
        },
      },
    };
  }
}
