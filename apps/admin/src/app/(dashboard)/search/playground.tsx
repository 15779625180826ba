'use client';

import { useEffect, useMemo, useRef, useState } from 'react';
import { Dropzone } from '@/components/dropzone';
import { ThresholdSlider } from '@/components/threshold-slider';
import { formatNumber } from '@/lib/format';
import {
  cutHits,
  savedThresholds,
  sliderRange,
  thresholdProblem,
  thresholdValueProblem,
  type Thresholds,
} from '@/lib/thresholds';
import {
  METRICS,
  type ModelDefault,
  type SearchAnswer,
  type SearchSettings,
  type SimilarityMetric,
} from '@/lib/types';
import { isErrorBody, postForm } from '@/lib/upload-client';
import { RegionPicker, type Region } from './region-picker';

const CUT_SHOWN = 12;

export function Playground({
  settings,
  defaults,
}: {
  settings: SearchSettings;
  defaults: ModelDefault[];
}) {
  const [photo, setPhoto] = useState<{ file: File; url: string } | null>(null);
  const [region, setRegion] = useState<Region | null>(null);
  const [answer, setAnswer] = useState<SearchAnswer | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [metric, setMetric] = useState<SimilarityMetric>(settings.metric);
  const saved = useMemo(() => savedThresholds(settings, defaults), [settings, defaults]);
  const [thresholds, setThresholds] = useState(saved);
  const [showAllCut, setShowAllCut] = useState(false);
  const request = useRef(0);

  // Paste a photo anywhere on the page.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
      if (file) {
        e.preventDefault();
        choose(file);
      }
    };
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('paste', onPaste);
    };
  });

  useEffect(
    () => () => {
      if (photo) URL.revokeObjectURL(photo.url);
    },
    [photo],
  );

  function choose(file: File) {
    setPhoto({ file, url: URL.createObjectURL(file) });
    setRegion(null);
    void search(file, null);
  }

  async function search(file: File, r: Region | null) {
    const id = ++request.current;
    setLoading(true);
    setError(null);
    const form = new FormData();
    form.set('image', file, file.name || 'photo');
    if (r) form.set('region', JSON.stringify(r));
    try {
      const res = await postForm<SearchAnswer>('/api/search', form);
      if (id !== request.current) return;
      if (isErrorBody(res.body) || !res.body) {
        setError(res.body?.error ?? `HTTP ${res.status}`);
        setAnswer(null);
      } else {
        setAnswer(res.body);
        setShowAllCut(false);
      }
    } catch (e) {
      if (id === request.current) setError(e instanceof Error ? e.message : String(e));
    } finally {
      if (id === request.current) setLoading(false);
    }
  }

  const t = thresholds[metric];
  // Off the scale: nothing to cut. A match threshold looser than the search threshold still
  // cuts (MATCH needs both), but saving it would be refused, so it is flagged.
  const invalid = thresholdValueProblem(t);
  const problem = invalid ?? thresholdProblem(t);
  const hits = useMemo(() => (answer ? answer.hits[metric] : []), [answer, metric]);
  const cut = useMemo(() => (invalid ? [] : cutHits(hits, t)), [hits, t, invalid]);
  const kept = cut.filter((h) => h.kept);
  const dropped = cut.filter((h) => !h.kept);
  const range = sliderRange(
    metric,
    hits,
    t.searchThreshold,
    t.matchThreshold,
    saved[metric].searchThreshold,
  );
  const setT = (p: Partial<Thresholds>) => {
    setThresholds((prev) => ({ ...prev, [metric]: { ...prev[metric], ...p } }));
  };
  const count = (v: string) => kept.filter((h) => h.judged === v).length;

  return (
    <div className="playground">
      <div className="stack">
        <section className="panel stack" aria-labelledby="photo-h">
          <h2 id="photo-h">Photo</h2>
          {photo ? (
            <>
              <RegionPicker
                src={photo.url}
                region={region}
                onChange={(r) => {
                  setRegion(r);
                  void search(photo.file, r);
                }}
              />
              <p className="hint">Drag on the photo to search only part of it.</p>
            </>
          ) : null}
          <Dropzone
            multiple={false}
            onFiles={([f]) => {
              if (f) choose(f);
            }}
          >
            <p>
              <strong>Drop a photo here</strong> or paste one (Ctrl+V)
            </p>
          </Dropzone>
        </section>

        <section className="panel stack" aria-labelledby="settings-h">
          <h2 id="settings-h">Metric and thresholds</h2>
          <div className="segmented" role="group" aria-label="Metric">
            {METRICS.map((m) => (
              <button
                key={m}
                type="button"
                aria-pressed={metric === m}
                onClick={() => {
                  setMetric(m);
                }}
              >
                {m === 'COSINE' ? 'Cosine' : 'Euclidean'}
              </button>
            ))}
          </div>
          <p className="hint" style={{ marginTop: 0 }}>
            {metric === 'COSINE'
              ? 'Cosine: score = similarity; a threshold is the minimum similarity.'
              : 'Euclidean: distance = L2; a threshold is the maximum distance.'}
          </p>
          <ThresholdSlider
            id="pg-search"
            label="Search threshold"
            metric={metric}
            value={t.searchThreshold}
            range={range}
            onChange={(v) => {
              setT({ searchThreshold: v });
            }}
          />
          <ThresholdSlider
            id="pg-match"
            label="Match threshold"
            metric={metric}
            value={t.matchThreshold}
            range={range}
            onChange={(v) => {
              setT({ matchThreshold: v });
            }}
          />
          {problem && (
            <div role="alert" className={`alert small ${invalid ? 'error' : 'warn'}`}>
              {problem}
            </div>
          )}
          <div className="row">
            <button
              type="button"
              onClick={() => {
                setThresholds(saved);
              }}
            >
              Reset to saved settings
            </button>
            <span className="small muted">
              Saved: {settings.metric.toLowerCase()}, search{' '}
              {formatNumber(settings.searchThreshold)}, match{' '}
              {formatNumber(settings.matchThreshold)}
            </span>
          </div>
        </section>
      </div>

      <section className="panel stack" aria-labelledby="results-h" aria-busy={loading}>
        <div className="row" style={{ justifyContent: 'space-between' }}>
          <h2 id="results-h" style={{ margin: 0 }}>
            Results
          </h2>
          {answer && !loading && (
            <span className="small muted" data-testid="result-summary">
              <strong className="num" data-testid="kept-count">
                {kept.length}
              </strong>{' '}
              of {hits.length} pass · <span data-testid="cut-count">{dropped.length}</span> cut ·{' '}
              {count('EXACT')} exact, {count('MATCH')} match · {answer.model},{' '}
              {Math.round(answer.tookMs[metric])} ms
            </span>
          )}
        </div>
        {loading && (
          <p role="status">
            <span className="spinner" aria-hidden="true" /> Searching…
          </p>
        )}
        {error && (
          <div role="alert" className="alert error">
            {error}
          </div>
        )}
        {!answer && !loading && !error && (
          <p className="muted">Results appear here. The API returns at most 100 per metric.</p>
        )}
        {answer && !loading && (
          <ol
            className="hits"
            aria-label="Results"
            style={{ listStyle: 'none', margin: 0, padding: 0 }}
          >
            {kept.length === 0 && (
              <li className="muted" style={{ gridColumn: '1 / -1' }}>
                No result passes this threshold.
              </li>
            )}
            {[...kept, ...dropped.slice(0, showAllCut ? dropped.length : CUT_SHOWN)].map((h, i) => (
              <HitCard
                key={h.productId}
                rank={i + 1}
                hit={h}
                first={i === kept.length && dropped.length > 0}
                cutCount={dropped.length}
              />
            ))}
            {dropped.length > CUT_SHOWN && !showAllCut && (
              <li style={{ gridColumn: '1 / -1' }}>
                <button
                  type="button"
                  onClick={() => {
                    setShowAllCut(true);
                  }}
                >
                  Show all {dropped.length} cut results
                </button>
              </li>
            )}
          </ol>
        )}
      </section>
    </div>
  );
}

function HitCard({
  hit,
  rank,
  first,
  cutCount,
}: {
  hit: ReturnType<typeof cutHits>[number];
  rank: number;
  first: boolean;
  cutCount: number;
}) {
  return (
    <>
      {first && (
        <li className="cut-line" aria-label={`The threshold cuts the ${cutCount} results below`}>
          threshold cuts {cutCount} below
        </li>
      )}
      <li className="hit" data-kept={hit.kept} data-external-id={hit.externalId}>
        <a href={`/catalog/${hit.productId}`} className="thumb" style={{ textDecoration: 'none' }}>
          <img src={`/images/${hit.sha256}?w=256`} alt={hit.title} loading="lazy" />
          <span className="rank">#{rank}</span>
        </a>
        <div className="hit-body">
          <span className="title" title={hit.title}>
            {hit.title}
          </span>
          <span className="mono muted">{hit.externalId}</span>
          <span className="kv">
            <span className="muted">score</span>
            <span className="num">{hit.score.toFixed(4)}</span>
          </span>
          <span className="kv">
            <span className="muted">distance</span>
            <span className="num">{hit.distance.toFixed(4)}</span>
          </span>
          <span>
            {hit.kept ? (
              <span className={`badge ${hit.judged ?? ''}`}>{hit.judged}</span>
            ) : (
              <span className="badge CUT">CUT</span>
            )}
          </span>
        </div>
      </li>
    </>
  );
}
