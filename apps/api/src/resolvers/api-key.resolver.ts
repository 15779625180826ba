import { CoreError, CoreErrorCode, type AccountService, type ApiKeyService } from '@lookalike/core';
import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { ApiKey, CreatedApiKey, Viewer } from '../types/api-key.type.js';
import { ApiScope } from '../types/enums.js';
import { toApiKey, toViewer } from './mappers.js';

@Resolver()
export class ApiKeyResolver {
  constructor(
    private readonly keys: ApiKeyService,
    private readonly accounts: AccountService,
  ) {}

  @Query(() => Viewer, {
    description:
      'The merchant, the key of this request and the model serving it; any valid key may ask.',
  })
  async viewer(@Ctx() ctx: Context): Promise<Viewer> {
    return toViewer(await this.accounts.viewer(ctx.principal));
  }

  @Authorized(ApiScope.KEYS_ADMIN)
  @Query(() => [ApiKey], {
    description: "The merchant's keys, newest first (secrets are never shown again).",
  })
  async apiKeys(@Ctx() ctx: Context): Promise<ApiKey[]> {
    return (await this.keys.list(ctx.principal.merchantId)).map(toApiKey);
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
    // The operator's scope is not a merchant's to hand out: only a key holding it may.
    if (
      scopes.includes(ApiScope.MERCHANTS_ADMIN) &&
      !ctx.principal.scopes.includes('MERCHANTS_ADMIN')
    ) {
      throw new CoreError(
        CoreErrorCode.FORBIDDEN,
        'Only a key with MERCHANTS_ADMIN may create keys with MERCHANTS_ADMIN',
        { field: 'scopes' },
      );
    }
    const { key, token } = await this.keys.create(ctx.principal.merchantId, name, scopes);
    return { apiKey: toApiKey(key), secret: token };
  }

  @Authorized(ApiScope.KEYS_ADMIN)
  @Mutation(() => Boolean, { description: 'False when the key was already revoked.' })
  revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<boolean> {
    return this.keys.revoke(ctx.principal.merchantId, id);
  }
}
