import { Field, Float, Int, ObjectType } from 'type-graphql';
import { ModelDefault } from './api-key.type.js';
import { ModelStatus } from './enums.js';

@ObjectType({ description: "How much of the merchant's catalog a model covers." })
export class ModelCoverage {
  @Field(() => Int, { description: 'READY images of the merchant.' })
  total!: number;

  @Field(() => Int, { description: 'Of those, with a vector of this model.' })
  embedded!: number;

  @Field(() => Int, { description: 'Images this model failed to embed in a re-index.' })
  failed!: number;

  @Field(() => Float, { description: 'embedded / total (1 for an empty catalog).' })
  fraction!: number;
}

@ObjectType({ description: 'A re-index: the catalog embedded with a model in the background.' })
export class ReindexProgress {
  @Field(() => Boolean, { description: 'True until every image has a vector or has failed.' })
  running!: boolean;

  @Field(() => Date)
  startedAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;

  @Field(() => Int, { description: 'Vectors written since the re-index (re)started.' })
  done!: number;

  @Field(() => Int, { description: 'Images still without a vector (and not failed).' })
  remaining!: number;

  @Field(() => Float, { nullable: true, description: 'Images per second since it (re)started.' })
  rate!: number | null;

  @Field(() => Float, { nullable: true, description: 'Seconds left at that rate.' })
  etaSeconds!: number | null;
}

@ObjectType({ description: "An embedding model in this merchant's catalog." })
export class EmbeddingModel {
  @Field(() => String, { description: 'e.g. fashion-resnet-v1.' })
  key!: string;

  @Field(() => Int)
  dims!: number;

  @Field(() => ModelStatus)
  status!: ModelStatus;

  @Field(() => Boolean, { description: 'This server loads the model (it is in MODELS).' })
  loaded!: boolean;

  @Field(() => String, { nullable: true, description: 'cpu or cuda, where this server runs it.' })
  executionProvider!: string | null;

  @Field(() => Date, { nullable: true })
  activatedAt!: Date | null;

  @Field(() => Boolean, {
    description:
      'Its re-index switches the merchant to it once every image has a vector (startReindex with activateWhenReady, or the automatic upgrade to a newer default model). Cleared when the re-index finishes: when some image failed, it does not switch and the model stays READY.',
  })
  activateWhenReady!: boolean;

  @Field(() => ModelCoverage)
  coverage!: ModelCoverage;

  @Field(() => ReindexProgress, { nullable: true, description: 'The current or last re-index.' })
  reindex!: ReindexProgress | null;

  @Field(() => [ModelDefault], {
    description: "The manifest's recommended thresholds: what the model starts on after a switch.",
  })
  defaults!: ModelDefault[];

  @Field(() => Boolean, {
    description:
      'False when the manifest has no measured thresholds and defaults are the fallback (no search cut; only near-identical images match).',
  })
  defaultsMeasured!: boolean;
}

@ObjectType({ description: 'The answer to activateModel.' })
export class ModelSwitch {
  @Field(() => EmbeddingModel)
  model!: EmbeddingModel;

  @Field(() => String, { nullable: true, description: 'The model that served before.' })
  previous!: string | null;

  @Field(() => Float, { description: 'Coverage of the new model when it took over.' })
  coverage!: number;

  @Field(() => Boolean, { description: 'True when forced past incomplete coverage.' })
  forced!: boolean;
}
