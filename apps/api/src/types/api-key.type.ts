import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ApiScope, SimilarityMetric } from './enums.js';

@ObjectType()
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'The public part: keys look like lk_<prefix>_<secret>.' })
  prefix!: string;

  @Field(() => [ApiScope])
  scopes!: ApiScope[];

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType()
export class CreatedApiKey {
  @Field(() => ApiKey)
  apiKey!: ApiKey;

  @Field(() => String, { description: 'The whole key. Shown once: only its hash is stored.' })
  secret!: string;
}

@ObjectType()
export class Merchant {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;
}

@ObjectType()
export class ModelDefault {
  @Field(() => SimilarityMetric)
  metric!: SimilarityMetric;

  @Field(() => Number)
  searchThreshold!: number;

  @Field(() => Number)
  matchThreshold!: number;
}

@ObjectType({ description: "The embedding model serving this merchant's searches." })
export class EmbeddingModelInfo {
  @Field(() => String)
  key!: string;

  @Field(() => Int)
  dims!: number;

  @Field(() => String, {
    nullable: true,
    description: 'cpu or cuda; null when this server does not load the model.',
  })
  executionProvider!: string | null;

  @Field(() => [ModelDefault])
  defaults!: ModelDefault[];
}

@ObjectType({ description: 'Who is asking: the merchant and the key of this request.' })
export class Viewer {
  @Field(() => Merchant)
  merchant!: Merchant;

  @Field(() => ApiKey)
  apiKey!: ApiKey;

  @Field(() => EmbeddingModelInfo)
  model!: EmbeddingModelInfo;
}
