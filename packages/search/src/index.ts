/**
 * @lookalike/search: similarity metrics, thresholds, verdicts and retrieval evaluation, as pure
 * functions. Conventions and formulas: ../README.md.
 */
export { SearchInputError, type InputProblem } from './errors.js';
export { dot, norm, l2Normalize, cosineSimilarity, euclideanDistance } from './vector.js';
export {
  METRICS,
  toScore,
  toDistance,
  measure,
  passesThreshold,
  validateThreshold,
  assertThreshold,
  validateThresholds,
  isLooserThreshold,
  type Metric,
  type Similarity,
  type ThresholdSettings,
} from './metric.js';
export { EXACT_DISTANCE, verdict, type Verdict, type VerdictInput } from './verdict.js';
export {
  evaluateRetrieval,
  DEFAULT_KS,
  DEFAULT_STEPS,
  DEFAULT_TARGET_PRECISION,
  DEFAULT_HISTOGRAM_BINS,
  MAX_CURVE_POINTS,
  type RankedResult,
  type EvaluationQuery,
  type SampleInfo,
  type EvaluationInput,
  type EvaluationReport,
  type EvaluationCounts,
  type MetricAtK,
  type QueryEvaluation,
  type ThresholdRecommendations,
  type SampleSummary,
} from './evaluate.js';
export type { PrPoint } from './sweep.js';
export type { ScoreHistogram } from './histogram.js';
export { seededRandom } from './random.js';
