import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { EvaluationJobStatus, Relevance, SimilarityMetric } from './enums.js';
import { PageInfo } from './product.type.js';

@ObjectType({ description: 'A point of the precision-recall curve: what a threshold would do.' })
export class PrPoint {
  @Field(() => Float, {
    description: "On the metric's scale (minimum similarity / maximum distance).",
  })
  threshold!: number;

  @Field(() => Float, { nullable: true, description: 'Null when no pair passes.' })
  precision!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Relative to all relevant images in the catalog.',
  })
  recall!: number | null;

  @Field(() => Float, { nullable: true })
  f1!: number | null;

  @Field(() => Int, { description: 'Fetched pairs that pass the threshold.' })
  predictedPositives!: number;

  @Field(() => Int)
  truePositives!: number;
}

@ObjectType()
export class MetricAtK {
  @Field(() => Int)
  k!: number;

  @Field(() => Float, { nullable: true })
  value!: number | null;
}

@ObjectType({ description: 'Scores of relevant and irrelevant pairs on the same bins.' })
export class ScoreHistogram {
  @Field(() => [Float], { description: 'bins + 1 ascending edges on the metric scale.' })
  edges!: number[];

  @Field(() => [Int])
  relevant!: number[];

  @Field(() => [Int])
  irrelevant!: number[];
}

@ObjectType()
export class ThresholdRecommendations {
  @Field(() => PrPoint, { nullable: true, description: 'The threshold with the highest F1.' })
  bestF1!: PrPoint | null;

  @Field(() => Float)
  targetPrecision!: number;

  @Field(() => PrPoint, {
    nullable: true,
    description: 'The loosest threshold whose precision reaches targetPrecision.',
  })
  atTargetPrecision!: PrPoint | null;
}

@ObjectType()
export class EvaluationSample {
  @Field(() => Boolean, {
    description: 'True when the queries are a sample of the eligible images.',
  })
  sampled!: boolean;

  @Field(() => Int, { description: 'Images that could have been queries.' })
  population!: number;

  @Field(() => Int)
  queries!: number;

  @Field(() => Int)
  seed!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'Standard error of mAP as an estimate for the whole catalog.',
  })
  mapStandardError!: number | null;
}

@ObjectType({
  description:
    'The catalog measuring itself: each sampled image queries the rest; relevant = same product (or category).',
})
export class CatalogEvaluation {
  @Field(() => SimilarityMetric)
  metric!: SimilarityMetric;

  @Field(() => Relevance)
  relevance!: Relevance;

  @Field(() => String)
  model!: string;

  @Field(() => Int, { description: 'Neighbours fetched per query.' })
  depth!: number;

  @Field(() => EvaluationSample)
  sample!: EvaluationSample;

  @Field(() => Int)
  pairs!: number;

  @Field(() => Int)
  relevantPairs!: number;

  @Field(() => Float, {
    nullable: true,
    description: 'Mean average precision over the fetched rankings.',
  })
  map!: number | null;

  @Field(() => Float, { nullable: true })
  mapAtR!: number | null;

  @Field(() => [MetricAtK])
  mapAtK!: MetricAtK[];

  @Field(() => [MetricAtK], {
    description: 'Fraction of queries with a relevant image in the top k.',
  })
  recallAtK!: MetricAtK[];

  @Field(() => [PrPoint], { description: 'Strict to loose.' })
  prCurve!: PrPoint[];

  @Field(() => ScoreHistogram)
  histogram!: ScoreHistogram;

  @Field(() => ThresholdRecommendations)
  recommended!: ThresholdRecommendations;

  @Field(() => Float)
  tookMs!: number;
}

@ObjectType({
  description:
    'A catalog evaluation run by a worker (startCatalogEvaluation): every metric asked on the same sample. One is queued or running per merchant at a time.',
})
export class EvaluationJob {
  @Field(() => ID)
  id!: string;

  @Field(() => EvaluationJobStatus)
  status!: EvaluationJobStatus;

  @Field(() => String, { description: 'The model measured.' })
  model!: string;

  @Field(() => [SimilarityMetric], { description: 'The metrics measured, in the order asked.' })
  metrics!: SimilarityMetric[];

  @Field(() => Relevance)
  relevance!: Relevance;

  @Field(() => Int)
  sampleSize!: number;

  @Field(() => Int)
  depth!: number;

  @Field(() => Int, { description: 'Nearest-neighbour queries run so far.' })
  done!: number;

  @Field(() => Int, { description: 'Queries in all: sampled images x metrics.' })
  total!: number;

  @Field(() => [CatalogEvaluation], {
    description: 'One per metric, in the order of metrics, once COMPLETED; empty before.',
  })
  results!: CatalogEvaluation[];

  @Field(() => String, { nullable: true, description: 'Why it FAILED.' })
  error!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}

@ObjectType()
export class EvaluationJobConnection {
  @Field(() => [EvaluationJob])
  nodes!: EvaluationJob[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
