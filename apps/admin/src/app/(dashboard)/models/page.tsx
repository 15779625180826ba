import { EmbeddingModelsDocument, SettingsDocument } from '@lookalike/sdk';
import type { Metadata } from 'next';
import { RefreshWhile } from '@/components/refresh-while';
import { formatDate, formatDuration, formatNumber, formatPercent } from '@/lib/format';
import { previousModel, thresholdsOf, type ModelThresholds } from '@/lib/models';
import type { EmbeddingModel, ModelStatus, SearchSettings } from '@/lib/types';
import { ApiError, type ApiClient } from '@/server/graphql';
import { requireSession } from '@/server/session';
import { ModelActions, SwitchBack } from './model-actions';

export const metadata: Metadata = { title: 'Models' };

const STATUS_HINTS: Record<ModelStatus, string> = {
  ACTIVE: 'Serves every search.',
  BACKFILLING: 'Being re-indexed; searches keep using the serving model.',
  READY: 'Kept in sync with the catalog: switching to it is instant.',
  RETIRED: 'Its vectors are deleted.',
  AVAILABLE: 'Loaded by the API, not used by this catalog yet.',
};

/** A model's own settings; null when the API knows no settings for it (a model never loaded). */
async function settingsOf(api: ApiClient, model: string): Promise<SearchSettings | null> {
  try {
    return (await api.request(SettingsDocument, { model })).searchSettings;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'NOT_FOUND') return null;
    throw error;
  }
}

export default async function ModelsPage() {
  const session = await requireSession();
  const { embeddingModels: models } = await session.api.request(EmbeddingModelsDocument);
  const settings = await Promise.all(models.map((m) => settingsOf(session.api, m.key)));
  const servingAt = models.findIndex((m) => m.status === 'ACTIVE');
  const serving = models[servingAt];
  const servingSettings = settings[servingAt] ?? null;
  const previous = previousModel(models);
  const running = models.some((m) => m.reindex?.running);
  const canWrite = session.can('SETTINGS_WRITE');

  return (
    <div className="stack">
      <RefreshWhile active={running} />
      <div className="page-head">
        <div>
          <h1>Models</h1>
          <p className="muted">
            An embedding model turns each image into the vector searches compare. One model serves
            the catalog; another can be re-indexed in the background (searches keep answering, new
            images get both vectors), then switched to at once. The model switched from stays in
            sync, so switching back is instant too.
          </p>
        </div>
      </div>
      {!canWrite && (
        <div className="alert warn">
          This key has no SETTINGS_WRITE scope, so it cannot re-index, switch or retire models: the
          models are read-only here.
        </div>
      )}
      {serving && (
        <div className="panel row" style={{ justifyContent: 'space-between' }}>
          <div data-testid="serving-summary">
            Serving: <strong className="mono">{serving.key}</strong>
            {serving.activatedAt && <> since {formatDate(serving.activatedAt)}</>}.
            {previous && (
              <>
                {' '}
                Before it: <span className="mono">{previous.key}</span>, kept in sync.
              </>
            )}
          </div>
          {canWrite && previous && <SwitchBack model={previous} />}
        </div>
      )}
      {running && (
        <p className="small muted" style={{ margin: 0 }}>
          <span className="spinner" aria-hidden="true" /> A re-index is running: this page refreshes
          every second.
        </p>
      )}
      {models.map((m, i) => (
        <ModelCard
          key={m.key}
          model={m}
          thresholds={thresholdsOf(m, settings[i] ?? null, servingSettings)}
          canWrite={canWrite}
        />
      ))}
    </div>
  );
}

function ModelCard({
  model,
  thresholds,
  canWrite,
}: {
  model: EmbeddingModel;
  thresholds: ModelThresholds | null;
  canWrite: boolean;
}) {
  const { coverage } = model;
  const headingId = `model-${model.key}`;
  return (
    <section
      className="panel stack"
      data-model={model.key}
      data-status={model.status}
      aria-labelledby={headingId}
    >
      <div className="row" style={{ justifyContent: 'space-between' }}>
        <h2 className="row" style={{ margin: 0, gap: '0.5rem' }}>
          <span id={headingId} className="mono">
            {model.key}
          </span>
          <span className={`badge status-${model.status}`} data-testid="model-status">
            {model.status}
          </span>
        </h2>
        <span className="small muted">{STATUS_HINTS[model.status]}</span>
      </div>
      <dl className="model-facts">
        <div>
          <dt>Model</dt>
          <dd>
            {model.dims}-d ·{' '}
            {model.loaded ? (
              <>loaded, runs on {model.executionProvider ?? 'an unknown device'}</>
            ) : (
              <span className="status-text error">
                not loaded by the API (add it to its MODELS)
              </span>
            )}
          </dd>
          <dd className="small muted">
            {model.activatedAt
              ? `last switched to ${formatDate(model.activatedAt)}`
              : 'never served'}
          </dd>
        </div>
        <div>
          <dt>Coverage</dt>
          <dd>
            <strong className="num" data-testid="coverage-percent">
              {formatPercent(coverage.fraction)}
            </strong>{' '}
            · <span data-testid="coverage-count">{coverage.embedded}</span> of {coverage.total}{' '}
            images
            {coverage.failed > 0 && (
              <span className="status-text error"> · {coverage.failed} failed</span>
            )}
          </dd>
          <dd>
            <div
              className="progress"
              role="progressbar"
              aria-label={`Coverage of ${model.key}`}
              aria-valuemin={0}
              aria-valuemax={100}
              aria-valuenow={Math.round(coverage.fraction * 100)}
            >
              <span style={{ width: `${Math.min(100, coverage.fraction * 100)}%` }} />
            </div>
          </dd>
        </div>
        <div>
          <dt>Re-index</dt>
          <dd data-testid="reindex">
            <ReindexState model={model} />
          </dd>
        </div>
        <div>
          <dt>Thresholds</dt>
          <ThresholdsFacts thresholds={thresholds} />
        </div>
      </dl>
      {canWrite && <ModelActions model={model} />}
    </section>
  );
}

function ReindexState({ model }: { model: EmbeddingModel }) {
  const r = model.reindex;
  const { embedded, total, failed } = model.coverage;
  if (!r) return <span className="muted">none: embedded as images arrived</span>;
  if (r.running)
    return (
      <>
        <span className="spinner" aria-hidden="true" /> running:{' '}
        <strong className="num">
          {embedded} / {total}
        </strong>{' '}
        ({r.done} this run, {r.remaining} to go{failed > 0 ? `, ${failed} failed` : ''})
        <br />
        <span className="small muted">
          {r.rate
            ? `${formatNumber(r.rate, 1)} images/s · ETA ${formatDuration(r.etaSeconds)}`
            : 'starting…'}
        </span>
      </>
    );
  const took = r.finishedAt
    ? (new Date(r.finishedAt).getTime() - new Date(r.startedAt).getTime()) / 1000
    : null;
  return (
    <>
      {r.finishedAt ? 'finished' : 'stopped'}: {r.done} embedded
      {took !== null && <> in {formatDuration(took)}</>}
      {failed > 0 && <>, {failed} failed</>}
      <br />
      <span className="small muted">
        {r.finishedAt ? formatDate(r.finishedAt) : `started ${formatDate(r.startedAt)}`}
      </span>
    </>
  );
}

function ThresholdsFacts({ thresholds: t }: { thresholds: ModelThresholds | null }) {
  if (!t) return <dd className="muted">unknown</dd>;
  const op = t.metric === 'COSINE' ? '≥' : '≤';
  return (
    <>
      <dd>
        {t.metric.toLowerCase()} · search {op} {formatNumber(t.searchThreshold, 4)} · match {op}{' '}
        {formatNumber(t.matchThreshold, 4)}
      </dd>
      <dd className="small muted">
        {t.source === 'saved'
          ? 'saved for this model'
          : t.inherited
            ? `the model's defaults for ${t.metric.toLowerCase()}, the metric in use: what it starts on after a switch`
            : "the model's defaults"}
      </dd>
    </>
  );
}
