import type { ModelService } from '@lookalike/core';
import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { ApiScope } from '../types/enums.js';
import { EmbeddingModel, ModelSwitch } from '../types/model.type.js';
import { toModel } from './mappers.js';

@Resolver()
export class ModelResolver {
  constructor(private readonly models: ModelService) {}

  @Authorized(ApiScope.SEARCH)
  @Query(() => [EmbeddingModel], {
    description:
      "The merchant's embedding models (serving first) with coverage and re-index progress, then the ones this server loads that the merchant has not used.",
  })
  async embeddingModels(@Ctx() ctx: Context): Promise<EmbeddingModel[]> {
    return (await this.models.list(ctx.principal.merchantId)).map(toModel);
  }

  @Authorized(ApiScope.SETTINGS_WRITE)
  @Mutation(() => EmbeddingModel, {
    description:
      'Embed every image of the catalog with this model in the background; searches keep answering from the serving model, and new images get both vectors. With activateWhenReady, the merchant switches to it when the re-index completes with every image covered (never forced: with a failed image it stays READY).',
  })
  async startReindex(
    @Arg('model', () => String) model: string,
    @Arg('activateWhenReady', () => Boolean, { defaultValue: false }) activateWhenReady: boolean,
    @Ctx() ctx: Context,
  ): Promise<EmbeddingModel> {
    return toModel(
      await this.models.startReindex(ctx.principal.merchantId, model, { activateWhenReady }),
    );
  }

  @Authorized(ApiScope.SETTINGS_WRITE)
  @Mutation(() => ModelSwitch, {
    description:
      'Make this model serve every search, atomically (switching back works the same way). Refused while its coverage is incomplete unless force.',
  })
  async activateModel(
    @Arg('model', () => String) model: string,
    @Arg('force', () => Boolean, { defaultValue: false }) force: boolean,
    @Ctx() ctx: Context,
  ): Promise<ModelSwitch> {
    const s = await this.models.activate(ctx.principal.merchantId, model, { force });
    return { ...s, model: toModel(s.model) };
  }

  @Authorized(ApiScope.SETTINGS_WRITE)
  @Mutation(() => EmbeddingModel, {
    description:
      'Delete the vectors of a model that does not serve (switching back to it then needs a re-index).',
  })
  async retireModel(
    @Arg('model', () => String) model: string,
    @Ctx() ctx: Context,
  ): Promise<EmbeddingModel> {
    return toModel(await this.models.retire(ctx.principal.merchantId, model));
  }
}
