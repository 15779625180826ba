import type { EvaluationService, SettingsService } from '@lookalike/core';
import { Arg, Args, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { SearchSettingsInput } from '../inputs/search.input.js';
import { ApiScope, metricOf, relevanceOf } from '../types/enums.js';
import { EvaluationJob, EvaluationJobConnection } from '../types/evaluation.type.js';
import { SearchSettings } from '../types/settings.type.js';
import { StartCatalogEvaluationArgs } from './args.js';
import { toEvaluationJob, toSearchSettings } from './mappers.js';

@Resolver()
export class SettingsResolver {
  constructor(
    private readonly settings: SettingsService,
    private readonly evaluation: EvaluationService,
  ) {}

  @Authorized(ApiScope.SEARCH)
  @Query(() => SearchSettings, {
    description: "The merchant's settings for a model (default: the serving one).",
  })
  async searchSettings(
    @Arg('model', () => String, { nullable: true }) model: string | null,
    @Ctx() ctx: Context,
  ): Promise<SearchSettings> {
    return toSearchSettings(await this.settings.get(ctx.principal.merchantId, model ?? undefined));
  }

  @Authorized(ApiScope.SETTINGS_WRITE)
  @Mutation(() => SearchSettings, {
    description:
      'Change the settings of a model (default: the serving one); each model keeps its own.',
  })
  async updateSearchSettings(
    @Arg('input', () => SearchSettingsInput) input: SearchSettingsInput,
    @Arg('model', () => String, { nullable: true }) model: string | null,
    @Ctx() ctx: Context,
  ): Promise<SearchSettings> {
    return toSearchSettings(
      await this.settings.update(
        ctx.principal.merchantId,
        {
          ...(input.metric ? { metric: metricOf[input.metric] } : {}),
          ...(input.searchThreshold !== undefined
            ? { searchThreshold: input.searchThreshold }
            : {}),
          ...(input.matchThreshold !== undefined ? { matchThreshold: input.matchThreshold } : {}),
          ...(input.topK !== undefined ? { topK: input.topK } : {}),
        },
        model ?? undefined,
      ),
    );
  }

  @Authorized(ApiScope.EVALUATE)
  @Mutation(() => EvaluationJob, {
    description:
      'Queue an evaluation of the catalog (precision, recall, F1, mAP and recommended thresholds, measured on the catalog itself) for a worker; follow it with catalogEvaluation(id). One is queued or running per merchant at a time: a second is CONFLICT.',
  })
  async startCatalogEvaluation(
    @Args(() => StartCatalogEvaluationArgs) args: StartCatalogEvaluationArgs,
    @Ctx() ctx: Context,
  ): Promise<EvaluationJob> {
    return toEvaluationJob(
      await this.evaluation.start(ctx.principal.merchantId, {
        model: args.model ?? null,
        metrics: args.metrics?.map((m) => metricOf[m]) ?? null,
        sampleSize: args.sampleSize ?? null,
        depth: args.depth ?? null,
        targetPrecision: args.targetPrecision ?? null,
        seed: args.seed ?? null,
        relevance: args.relevance ? relevanceOf[args.relevance] : null,
      }),
    );
  }

  @Authorized(ApiScope.EVALUATE)
  @Query(() => EvaluationJob, { description: 'An evaluation: its progress, then its results.' })
  async catalogEvaluation(
    @Arg('id', () => ID) id: string,
    @Ctx() ctx: Context,
  ): Promise<EvaluationJob> {
    return toEvaluationJob(await this.evaluation.get(ctx.principal.merchantId, id));
  }

  @Authorized(ApiScope.EVALUATE)
  @Query(() => EvaluationJobConnection, { description: 'Evaluations, newest first.' })
  async catalogEvaluations(
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first: number,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ): Promise<EvaluationJobConnection> {
    const page = await this.evaluation.list(ctx.principal.merchantId, { first, after });
    const last = page.items.at(-1);
    return {
      nodes: page.items.map(toEvaluationJob),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: last?.id ?? null },
    };
  }
}
