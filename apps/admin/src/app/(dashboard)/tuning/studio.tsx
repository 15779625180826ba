'use client';

import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { formatNumber, formatPercent } from '@/lib/format';
import {
  dryRun,
  nearestPoint,
  savedThresholds,
  thresholdProblem,
  type SampleQuery,
  type Thresholds,
} from '@/lib/thresholds';
import {
  METRICS,
  type CatalogEvaluation,
  type ModelDefault,
  type PrPoint,
  type SearchSettings,
  type SimilarityMetric,
} from '@/lib/types';
import {
  evaluationStatus,
  sampleQueries,
  saveSettings,
  startEvaluation,
  type EvaluationParams,
} from './actions';
import { F1Chart, HistogramChart, PrChart, type Mark } from './charts';

const MARK_COLORS = { search: '#3451b2', match: '#15803d', bestF1: '#ea580c', target: '#9333ea' };
const SAMPLE_QUERIES = 12;
const DEFAULT_PARAMS: EvaluationParams = {
  relevance: 'PRODUCT',
  sampleSize: 200,
  depth: 50,
  targetPrecision: 0.9,
};

/** How often a running evaluation's progress is asked for. */
const EVALUATION_POLL_MS = 500;

type Values = Record<SimilarityMetric, { searchThreshold: number; matchThreshold: number }>;

export function Studio({
  settings,
  defaults,
  canSave,
}: {
  settings: SearchSettings;
  defaults: ModelDefault[];
  canSave: boolean;
}) {
  const router = useRouter();
  const saved = useMemo(() => savedThresholds(settings, defaults), [settings, defaults]);
  const [params, setParams] = useState<EvaluationParams>(DEFAULT_PARAMS);
  const [evals, setEvals] = useState<Record<SimilarityMetric, CatalogEvaluation> | null>(null);
  const [evalState, setEvalState] = useState<{
    loading: boolean;
    error?: string;
    progress?: { done: number; total: number };
  }>({
    loading: true,
  });
  const [metric, setMetric] = useState<SimilarityMetric>(settings.metric);
  const [values, setValues] = useState<Values>(() => ({
    COSINE: {
      searchThreshold: saved.COSINE.searchThreshold,
      matchThreshold: saved.COSINE.matchThreshold,
    },
    EUCLIDEAN: {
      searchThreshold: saved.EUCLIDEAN.searchThreshold,
      matchThreshold: saved.EUCLIDEAN.matchThreshold,
    },
  }));
  const [sample, setSample] = useState<SampleQuery[] | null>(null);
  const [sampleState, setSampleState] = useState<{ loading: boolean; error?: string }>({
    loading: true,
  });
  const [save, setSave] = useState<{ busy: boolean; error?: string; done?: SearchSettings }>({
    busy: false,
  });

  // The API runs the evaluation on a worker: queue it, then follow its progress.
  const runEvaluation = useCallback(async (p: EvaluationParams) => {
    setEvalState({ loading: true });
    let result = await startEvaluation(p);
    while (result.ok && (result.data.status === 'QUEUED' || result.data.status === 'RUNNING')) {
      setEvalState({
        loading: true,
        progress: { done: result.data.done, total: result.data.total },
      });
      await new Promise((resolve) => setTimeout(resolve, EVALUATION_POLL_MS));
      result = await evaluationStatus(result.data.id);
    }
    if (!result.ok) setEvalState({ loading: false, error: result.error });
    else if (result.data.results) {
      setEvals(result.data.results);
      setEvalState({ loading: false });
    } else setEvalState({ loading: false, error: result.data.error ?? result.data.status });
  }, []);

  const loadSample = useCallback(async () => {
    setSampleState({ loading: true });
    const result = await sampleQueries(SAMPLE_QUERIES);
    if (result.ok) {
      setSample(result.data);
      setSampleState({ loading: false });
    } else setSampleState({ loading: false, error: result.error });
  }, []);

  useEffect(() => {
    void runEvaluation(DEFAULT_PARAMS).then(loadSample);
  }, [runEvaluation, loadSample]);

  const { searchThreshold, matchThreshold } = values[metric];
  const next: Thresholds = useMemo(
    () => ({ metric, searchThreshold, matchThreshold }),
    [metric, searchThreshold, matchThreshold],
  );
  const before = saved[settings.metric];
  const problem = thresholdProblem(next);
  const changed =
    next.metric !== before.metric ||
    next.searchThreshold !== before.searchThreshold ||
    next.matchThreshold !== before.matchThreshold;
  const preview = useMemo(
    () => (sample && !problem ? dryRun(sample, before, next) : null),
    [sample, problem, before, next],
  );

  async function onSave() {
    setSave({ busy: true });
    const result = await saveSettings(next);
    if (result.ok) {
      setSave({ busy: false, done: result.data });
      router.refresh();
    } else setSave({ busy: false, error: result.error });
  }

  return (
    <div className="stack">
      <form
        className="panel row"
        style={{ alignItems: 'flex-end' }}
        aria-label="Evaluation settings"
        onSubmit={(e) => {
          e.preventDefault();
          void runEvaluation(params);
        }}
      >
        <div className="field">
          <label htmlFor="ev-relevance">Relevant means</label>
          <select
            id="ev-relevance"
            value={params.relevance}
            onChange={(e) => {
              setParams({ ...params, relevance: e.target.value as EvaluationParams['relevance'] });
            }}
          >
            <option value="PRODUCT">same product</option>
            <option value="CATEGORY">same category</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="ev-sample">Query images</label>
          <input
            id="ev-sample"
            type="number"
            min={1}
            max={2000}
            value={params.sampleSize}
            style={{ width: 100 }}
            onChange={(e) => {
              setParams({ ...params, sampleSize: Number(e.target.value) });
            }}
          />
        </div>
        <div className="field">
          <label htmlFor="ev-depth">Neighbours per query</label>
          <input
            id="ev-depth"
            type="number"
            min={1}
            max={200}
            value={params.depth}
            style={{ width: 100 }}
            onChange={(e) => {
              setParams({ ...params, depth: Number(e.target.value) });
            }}
          />
        </div>
        <div className="field">
          <label htmlFor="ev-target">Target precision</label>
          <input
            id="ev-target"
            type="number"
            min={0.01}
            max={1}
            step={0.01}
            value={params.targetPrecision}
            style={{ width: 90 }}
            onChange={(e) => {
              setParams({ ...params, targetPrecision: Number(e.target.value) });
            }}
          />
        </div>
        <button type="submit" className="primary" disabled={evalState.loading}>
          {evalState.loading ? (
            <>
              <span className="spinner" aria-hidden="true" /> Evaluating…
            </>
          ) : (
            'Run evaluation'
          )}
        </button>
        <div className="legend" style={{ marginLeft: 'auto' }}>
          <span>
            <i style={{ background: MARK_COLORS.search }} />
            search threshold
          </span>
          <span>
            <i style={{ background: MARK_COLORS.match }} />
            match threshold
          </span>
          <span>
            <i style={{ background: MARK_COLORS.bestF1 }} />
            best F1
          </span>
          <span>
            <i style={{ background: MARK_COLORS.target }} />
            target precision
          </span>
        </div>
      </form>

      {evalState.error && (
        <div role="alert" className="alert error">
          The evaluation failed: {evalState.error}
        </div>
      )}
      {evalState.loading && !evals && (
        <p role="status">
          <span className="spinner" aria-hidden="true" /> Measuring the catalog with both metrics…
          {evalState.progress && evalState.progress.total > 0 && (
            <>
              {' '}
              {evalState.progress.done} of {evalState.progress.total} queries
            </>
          )}
        </p>
      )}

      {evals && (
        <div className="metric-columns" aria-busy={evalState.loading}>
          {METRICS.map((m) => (
            <MetricPanel
              key={m}
              metric={m}
              evaluation={evals[m]}
              values={values[m]}
              saved={saved[m]}
              isSavedMetric={settings.metric === m}
              selected={metric === m}
              onSelect={() => {
                setMetric(m);
              }}
              onChange={(v) => {
                setValues((prev) => ({ ...prev, [m]: { ...prev[m], ...v } }));
              }}
            />
          ))}
        </div>
      )}

      <section className="panel stack" aria-labelledby="save-h">
        <h2 id="save-h">Preview and save</h2>
        <table style={{ maxWidth: 640 }}>
          <thead>
            <tr>
              <th />
              <th>metric</th>
              <th className="num">search threshold</th>
              <th className="num">match threshold</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td>Saved now</td>
              <td>{before.metric.toLowerCase()}</td>
              <td className="num">{formatNumber(before.searchThreshold, 4)}</td>
              <td className="num">{formatNumber(before.matchThreshold, 4)}</td>
            </tr>
            <tr>
              <td>
                <strong>New</strong>
              </td>
              <td>
                <strong>{next.metric.toLowerCase()}</strong>
              </td>
              <td className="num" data-testid="new-search-threshold">
                <strong>{formatNumber(next.searchThreshold, 4)}</strong>
              </td>
              <td className="num" data-testid="new-match-threshold">
                <strong>{formatNumber(next.matchThreshold, 4)}</strong>
              </td>
            </tr>
          </tbody>
        </table>
        {problem && (
          <div role="alert" className="alert error">
            {problem}
          </div>
        )}

        <div aria-live="polite">
          {sampleState.loading && (
            <p role="status" className="muted">
              <span className="spinner" aria-hidden="true" /> Searching {SAMPLE_QUERIES} sample
              images for the dry run…
            </p>
          )}
          {sampleState.error && (
            <div role="alert" className="alert error">
              The dry run could not sample queries: {sampleState.error}{' '}
              <button type="button" className="link" onClick={() => void loadSample()}>
                Retry
              </button>
            </div>
          )}
          {preview && <DryRunView run={preview} changed={changed} />}
        </div>

        {save.error && (
          <div role="alert" className="alert error">
            Not saved: {save.error}
          </div>
        )}
        {save.done && !changed && (
          <div role="status" className="alert ok" data-testid="save-ok">
            Saved. The API now searches with {save.done.metric.toLowerCase()}, search threshold{' '}
            {formatNumber(save.done.searchThreshold, 4)}, match threshold{' '}
            {formatNumber(save.done.matchThreshold, 4)}.
          </div>
        )}
        <div className="row">
          <button
            type="button"
            className="primary"
            disabled={!canSave || !!problem || !changed || save.busy}
            onClick={() => void onSave()}
          >
            {save.busy ? 'Saving…' : 'Save settings'}
          </button>
          {!canSave && <span className="small muted">This key has no SETTINGS_WRITE scope.</span>}
          {canSave && !changed && !save.done && (
            <span className="small muted">
              Move a slider or pick the other metric to change the settings.
            </span>
          )}
        </div>
      </section>
    </div>
  );
}

function MetricPanel({
  metric,
  evaluation: ev,
  values,
  saved,
  isSavedMetric,
  selected,
  onSelect,
  onChange,
}: {
  metric: SimilarityMetric;
  evaluation: CatalogEvaluation;
  values: { searchThreshold: number; matchThreshold: number };
  saved: Thresholds;
  isSavedMetric: boolean;
  selected: boolean;
  onSelect: () => void;
  onChange: (v: Partial<{ searchThreshold: number; matchThreshold: number }>) => void;
}) {
  const curve = ev.prCurve;
  const name = metric === 'COSINE' ? 'Cosine' : 'Euclidean';
  const searchPoint = curve.length
    ? (curve[nearestPoint(curve, values.searchThreshold)] ?? null)
    : null;
  const matchPoint = curve.length
    ? (curve[nearestPoint(curve, values.matchThreshold)] ?? null)
    : null;
  const { bestF1, atTargetPrecision, targetPrecision } = ev.recommended;
  const marks: Mark[] = [
    {
      label: 'search',
      threshold: values.searchThreshold,
      point: searchPoint,
      color: MARK_COLORS.search,
    },
    {
      label: 'match',
      threshold: values.matchThreshold,
      point: matchPoint,
      color: MARK_COLORS.match,
      dashed: true,
    },
    ...(bestF1
      ? [
          {
            label: 'bestF1',
            threshold: bestF1.threshold,
            point: bestF1,
            color: MARK_COLORS.bestF1,
            dashed: true,
          },
        ]
      : []),
    ...(atTargetPrecision
      ? [
          {
            label: 'target',
            threshold: atTargetPrecision.threshold,
            point: atTargetPrecision,
            color: MARK_COLORS.target,
            dashed: true,
          },
        ]
      : []),
  ];
  const r = (k: number) => ev.recallAtK.find((x) => x.k === k)?.value ?? null;

  return (
    <section
      className="panel metric-panel stack"
      data-selected={selected}
      data-metric={metric}
      aria-labelledby={`${metric}-h`}
    >
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h2 id={`${metric}-h`} style={{ margin: 0 }}>
          {name} {isSavedMetric && <span className="badge">saved metric</span>}
        </h2>
        <label className="check" style={{ margin: 0 }}>
          <input type="radio" name="studio-metric" checked={selected} onChange={onSelect} /> Use{' '}
          {name.toLowerCase()}
        </label>
      </div>
      <p className="hint" style={{ margin: 0 }}>
        {metric === 'COSINE'
          ? 'Thresholds are minimum similarities (higher is stricter).'
          : 'Thresholds are maximum L2 distances (lower is stricter).'}{' '}
        Sliders step along the measured curve, strict to loose. {ev.sample.queries} queries
        {ev.sample.sampled ? ` sampled from ${ev.sample.population}` : ''},{' '}
        {ev.pairs.toLocaleString('en')} pairs ({ev.relevantPairs} relevant), {Math.round(ev.tookMs)}{' '}
        ms.
      </p>
      <div className="stats">
        <Stat
          k="mAP"
          v={formatNumber(ev.map)}
          sub={
            ev.sample.mapStandardError
              ? `±${formatNumber(ev.sample.mapStandardError, 3)}`
              : undefined
          }
        />
        <Stat k="Recall@1" v={formatPercent(r(1))} />
        <Stat k="Recall@5" v={formatPercent(r(5))} />
        <Stat k="Recall@10" v={formatPercent(r(10))} />
      </div>

      {curve.length === 0 ? (
        <div className="alert warn">
          No pairs to measure: the catalog needs products with more than one image (or categories
          with more than one product).
        </div>
      ) : (
        <>
          <CurveSlider
            id={`${metric}-search`}
            label="Search threshold"
            curve={curve}
            value={values.searchThreshold}
            savedValue={saved.searchThreshold}
            onChange={(v) => {
              onChange({ searchThreshold: v });
            }}
          />
          <CurveSlider
            id={`${metric}-match`}
            label="Match threshold"
            curve={curve}
            value={values.matchThreshold}
            savedValue={saved.matchThreshold}
            onChange={(v) => {
              onChange({ matchThreshold: v });
            }}
          />
          <div className="row small">
            <span className="muted small">Use:</span>
            {bestF1 ? (
              <button
                type="button"
                className="compact"
                onClick={() => {
                  onChange({ searchThreshold: bestF1.threshold });
                }}
                title="Set the search threshold to the best-F1 point"
              >
                best F1 {formatNumber(bestF1.f1)} @ {formatNumber(bestF1.threshold, 4)} → search
              </button>
            ) : (
              <span className="muted">no F1 above 0</span>
            )}
            {atTargetPrecision ? (
              <button
                type="button"
                className="compact"
                onClick={() => {
                  onChange({ matchThreshold: atTargetPrecision.threshold });
                }}
                title="Set the match threshold to the target-precision point"
              >
                P ≥ {formatPercent(targetPrecision)} @{' '}
                {formatNumber(atTargetPrecision.threshold, 4)} → match
              </button>
            ) : (
              <span className="muted">
                no threshold reaches {formatPercent(targetPrecision)} precision
              </span>
            )}
          </div>
          <div className="chart-title">Precision–recall</div>
          <PrChart curve={curve} marks={marks} />
          <div className="chart-title">F1, precision and recall by threshold</div>
          <F1Chart curve={curve} marks={marks} />
          <div className="chart-title">
            {metric === 'COSINE' ? 'Similarity' : 'Distance'} of relevant vs irrelevant pairs
          </div>
          <HistogramChart histogram={ev.histogram} marks={marks} />
        </>
      )}
    </section>
  );
}

function Stat({ k, v, sub }: { k: string; v: string; sub?: string | undefined }) {
  return (
    <div className="stat">
      <div className="k">{k}</div>
      <div className="v">
        {v}
        {sub && (
          <span className="small muted" style={{ fontWeight: 400 }}>
            {' '}
            {sub}
          </span>
        )}
      </div>
    </div>
  );
}

/**
 * A threshold slider that moves along the PR curve's points, strict to loose: precision, recall
 * and F1 are measured exactly there. A saved value between two points reads as the nearest.
 */
function CurveSlider({
  id,
  label,
  curve,
  value,
  savedValue,
  onChange,
}: {
  id: string;
  label: string;
  curve: PrPoint[];
  value: number;
  savedValue: number;
  onChange: (v: number) => void;
}) {
  const index = nearestPoint(curve, value);
  const p = curve[index];
  const exact = p?.threshold === value;
  return (
    <div className="stack" style={{ gap: '0.25rem' }}>
      <div className="slider-row">
        <label htmlFor={id} style={{ margin: 0 }}>
          {label}
        </label>
        <input
          id={id}
          type="range"
          min={0}
          max={curve.length - 1}
          step={1}
          value={index}
          aria-valuetext={`threshold ${formatNumber(p?.threshold, 4)}, precision ${formatPercent(p?.precision)}, recall ${formatPercent(p?.recall)}`}
          onChange={(e) => {
            const point = curve[Number(e.target.value)];
            if (point) onChange(point.threshold);
          }}
        />
        <output htmlFor={id} className="num mono" data-testid={`${id}-value`}>
          {formatNumber(value, 4)}
        </output>
      </div>
      <div
        className="row small muted"
        style={{ justifyContent: 'space-between', paddingLeft: 162 }}
      >
        <span>
          precision <strong className="num">{formatPercent(p?.precision)}</strong> · recall{' '}
          <strong className="num">{formatPercent(p?.recall)}</strong> · F1{' '}
          <strong className="num">{formatNumber(p?.f1)}</strong>
          {!exact && p && <> (nearest point {formatNumber(p.threshold, 4)})</>}
        </span>
        {value !== savedValue && (
          <button
            type="button"
            className="link small"
            onClick={() => {
              onChange(savedValue);
            }}
          >
            reset
          </button>
        )}
      </div>
    </div>
  );
}

function DryRunView({ run, changed }: { run: ReturnType<typeof dryRun>; changed: boolean }) {
  return (
    <div className="stack" data-testid="dry-run">
      <p style={{ margin: 0 }}>
        <strong>Dry run</strong> on {run.queries.length} catalog images as queries:{' '}
        {changed ? (
          <>
            results <span className="delta-up">+{run.added} added</span>,{' '}
            <span className="delta-down">−{run.dropped} dropped</span> ({run.resultsBefore} →{' '}
            {run.resultsAfter}); matches <span className="delta-up">+{run.matchesAdded}</span> /{' '}
            <span className="delta-down">−{run.matchesDropped}</span>.
          </>
        ) : (
          'no change from the saved settings.'
        )}
        {run.capped && (
          <span className="muted small">
            {' '}
            Some queries reach the API’s 100-result cap: counts beyond it are not seen.
          </span>
        )}
      </p>
      {changed && (
        <details>
          <summary className="small">Per query</summary>
          <table>
            <thead>
              <tr>
                <th>query image</th>
                <th className="num">results</th>
                <th className="num">added</th>
                <th className="num">dropped</th>
                <th className="num">matches</th>
              </tr>
            </thead>
            <tbody>
              {run.queries.map((q) => (
                <tr key={q.label}>
                  <td>{q.label}</td>
                  <td className="num">
                    {q.before} → {q.after}
                    {q.capped ? '+' : ''}
                  </td>
                  <td className="num delta-up">{q.added ? `+${q.added}` : ''}</td>
                  <td className="num delta-down">{q.dropped ? `−${q.dropped}` : ''}</td>
                  <td className="num">
                    {q.matchesBefore} → {q.matchesAfter}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </div>
  );
}
