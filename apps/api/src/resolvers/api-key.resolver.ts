import type { ApiKeyRecord } from '@lookalike/db';
import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { notFound } from '../errors.js';
import type { Services } from '../services/index.js';
import { ApiKey, CreatedApiKey, Viewer } from '../types/api-key.type.js';
import { ApiScope, toSimilarityMetric } from '../types/enums.js';

function toApiKey(key: ApiKeyRecord): ApiKey {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: key.scopes.map((s) => ApiScope[s]),
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
    revokedAt: key.revokedAt,
  };
}

@Resolver()
export class ApiKeyResolver {
  constructor(private readonly services: Services) {}

  @Query(() => Viewer, {
    description: 'The merchant and key of this request; any valid key may ask.',
  })
  async viewer(@Ctx() ctx: Context): Promise<Viewer> {
    const { merchantId, keyId } = ctx.principal;
    const [merchant, key] = await Promise.all([
      this.services.db.merchants.get(merchantId),
      this.services.db.apiKeys.get(merchantId, keyId),
    ]);
    if (!merchant || !key) throw notFound('merchant');
    const info = this.services.embedder.info;
    return {
      merchant: { id: merchant.id, name: merchant.name },
      apiKey: toApiKey(key),
      model: {
        key: info.key,
        dims: info.dims,
        executionProvider: info.executionProvider,
        defaults: (['cosine', 'euclidean'] as const).map((m) => ({
          metric: toSimilarityMetric(m),
          ...this.services.settings.modelDefaults(m),
        })),
      },
    };
  }

  @Authorized(ApiScope.KEYS_ADMIN)
  @Query(() => [ApiKey], {
    description: "The merchant's keys, newest first (secrets are never shown again).",
  })
  async apiKeys(@Ctx() ctx: Context): Promise<ApiKey[]> {
    return (await this.services.apiKeys.list(ctx.principal.merchantId)).map(toApiKey);
  }

  @Authorized(ApiScope.KEYS_ADMIN)
  @Mutation(() => CreatedApiKey, {
    description: 'The secret is in the response once; only its hash is stored.',
  })
  async createApiKey(
    @Arg('name', () => String) name: string,
    @Arg('scopes', () => [ApiScope]) scopes: ApiScope[],
    @Ctx() ctx: Context,
  ): Promise<CreatedApiKey> {
    const { key, token } = await this.services.apiKeys.create(ctx.principal.merchantId, name, [
      ...new Set(scopes),
    ]);
    return { apiKey: toApiKey(key), secret: token };
  }

  @Authorized(ApiScope.KEYS_ADMIN)
  @Mutation(() => Boolean, { description: 'False when the key was already revoked.' })
  revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<boolean> {
    return this.services.apiKeys.revoke(ctx.principal, id);
  }
}
