'use client';

import { useEffect, useMemo, useRef, useState } from 'react';
import { Dropzone } from '@/components/dropzone';
import { ThresholdSlider } from '@/components/threshold-slider';
import { clickRegion, searchedIndex, searchedText, type Searched } from '@/lib/detection';
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
  type ActionResult,
  type DetectedProductHits,
  type Hit,
  type ModelDefault,
  type SearchAnswer,
  type SearchSettings,
  type SimilarityMetric,
} from '@/lib/types';
import { isErrorBody, postForm } from '@/lib/upload-client';
import { moreLikeThis } from './actions';
import { DetectionBoxes, ObjectStrip } from './detection-boxes';
import { RegionPicker, type Region } from './region-picker';

const CUT_SHOWN = 12;

/** The product a "More like this" answer is like. */
type LikeOf = Pick<Hit, 'productId' | 'externalId' | 'title' | 'sha256'>;

export function Playground({
  settings,
  defaults,
}: {
  settings: SearchSettings;
  defaults: ModelDefault[];
}) {
  const [photo, setPhoto] = useState<{ file: File; url: string } | null>(null);
  const [region, setRegion] = useState<Region | null>(null);
  /** Detect the products in the photo (the API then searches the main one). */
  const [detect, setDetect] = useState(true);
  /** The products detected in this photo, from its first search; null: not known yet. */
  const [objects, setObjects] = useState<DetectedProductHits[] | null>(null);
  /** The detected box the current region is (a click on it), so Back searches it again. */
  const [picked, setPicked] = useState<number | null>(null);
  /** What the last photo search searched (kept while a "more like this" answer shows). */
  const [searched, setSearched] = useState<Searched | null>(null);
  const [answer, setAnswer] = useState<SearchAnswer | null>(null);
  /** Set while the results are "more like" a product rather than like the photo. */
  const [likeOf, setLikeOf] = useState<LikeOf | null>(null);
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
    setPicked(null);
    setObjects(null);
    setSearched(null);
    void search(file, null, null, detect, detect);
  }

  /** Runs one search; an answer that arrives after a newer search started is dropped. */
  async function ask(
    like: LikeOf | null,
    send: () => Promise<ActionResult<SearchAnswer>>,
    onAnswer?: (answer: SearchAnswer) => void,
  ) {
    const id = ++request.current;
    setLoading(true);
    setError(null);
    setLikeOf(like);
    try {
      const result = await send();
      if (id !== request.current) return;
      if (!result.ok) {
        setError(result.error);
        setAnswer(null);
      } else {
        setAnswer(result.data);
        setShowAllCut(false);
        onAnswer?.(result.data);
      }
    } catch (e) {
      if (id === request.current) setError(e instanceof Error ? e.message : String(e));
    } finally {
      if (id === request.current) setLoading(false);
    }
  }

  /**
   * Searches the photo (or region `r` of it; `box`: the detected box it is). The photo's first
   * search (`withObjects`) also lists every detected product; later ones reuse those boxes.
   */
  function search(
    file: File,
    r: Region | null,
    box: number | null,
    detecting: boolean,
    withObjects: boolean,
  ) {
    const form = new FormData();
    form.set('image', file, file.name || 'photo');
    if (r) form.set('region', JSON.stringify(r));
    form.set('detect', String(detecting));
    if (withObjects) form.set('objects', 'true');
    return ask(
      null,
      async (): Promise<ActionResult<SearchAnswer>> => {
        const res = await postForm<SearchAnswer>('/api/search', form);
        if (isErrorBody(res.body) || !res.body)
          return {
            ok: false,
            error: res.body?.error ?? `HTTP ${res.status}`,
            code: res.body?.code ?? 'BAD_RESPONSE',
          };
        return { ok: true, data: res.body };
      },
      ({ photo: p }) => {
        if (!p) return;
        if (p.objects) setObjects(p.objects);
        setSearched({
          box: p.searchedBox,
          detection: p.searchedDetection,
          picked: box,
          region: r,
          detect: detecting,
        });
      },
    );
  }

  /** Searches the photo again as it stands (region, clicked box, detection). */
  function searchAgain(file: File) {
    return search(file, region, picked, detect, detect && objects === null);
  }

  /** A click on a detected box: that box (grown like the API's pick) is the region searched. */
  function pickBox(index: number, natural: { w: number; h: number }) {
    const o = objects?.[index];
    if (!photo || !o) return;
    const r = clickRegion(o.box, natural);
    setRegion(r);
    setPicked(index);
    void search(photo.file, r, index, detect, false);
  }

  /** "More like this": the hit's product as the query (its stored vectors; it is left out). */
  function moreLike(hit: LikeOf) {
    const like = {
      productId: hit.productId,
      externalId: hit.externalId,
      title: hit.title,
      sha256: hit.sha256,
    };
    void ask(like, () => moreLikeThis(hit.productId));
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
  const shownObjects = objects ?? [];
  const highlighted = searchedIndex(shownObjects, searched);
  // The detector's pick is searched with a margin: outline what was searched (a region, a
  // clicked box's included, is drawn by the picker).
  const detectedArea = searched?.detection && !searched.region ? searched.box : null;

  return (
    <div className="playground">
      <div className="stack">
        {likeOf && (
          <section className="panel stack" aria-labelledby="like-h">
            <h2 id="like-h" style={{ margin: 0 }}>
              More like this
            </h2>
            <div className="like-of">
              <img src={`/images/${likeOf.sha256}?w=128`} alt="" />
              <div style={{ minWidth: 0 }}>
                <a href={`/catalog/${likeOf.productId}`} className="title">
                  {likeOf.title}
                </a>
                <div className="mono small muted">{likeOf.externalId}</div>
              </div>
            </div>
            <p className="hint" style={{ margin: 0 }}>
              Products like this one by its stored vectors (averaged over its images), under both
              metrics; it is left out of the results.
            </p>
            {photo && (
              <div>
                <button
                  type="button"
                  onClick={() => {
                    void searchAgain(photo.file);
                  }}
                >
                  Back to the photo&apos;s results
                </button>
              </div>
            )}
          </section>
        )}
        <section className="panel stack" aria-labelledby="photo-h">
          <h2 id="photo-h">Photo</h2>
          {photo ? (
            <>
              <RegionPicker
                src={photo.url}
                region={region}
                onChange={(r) => {
                  setRegion(r);
                  setPicked(null);
                  void search(photo.file, r, null, detect, detect && objects === null);
                }}
                overlay={(natural) =>
                  detect && shownObjects.length + (detectedArea ? 1 : 0) > 0 ? (
                    <DetectionBoxes
                      natural={natural}
                      objects={shownObjects}
                      highlighted={highlighted}
                      searchedBox={detectedArea}
                      onPick={(i) => {
                        pickBox(i, natural);
                      }}
                    />
                  ) : null
                }
              />
              {searched && (
                <p className="small searched-legend" data-testid="searched-legend" role="status">
                  <span className="legend-swatch" aria-hidden="true" />
                  {searchedText(shownObjects, searched)}
                  {detect && shownObjects.length > 0 && (
                    <span className="muted"> · {shownObjects.length} detected</span>
                  )}
                </p>
              )}
              {detect && <ObjectStrip objects={shownObjects} highlighted={highlighted} />}
              <p className="hint">
                {detect && shownObjects.length > 0
                  ? 'Click a box to search that product, or drag on the photo to search only part of it.'
                  : 'Drag on the photo to search only part of it.'}
              </p>
            </>
          ) : null}
          <label className="check small">
            <input
              type="checkbox"
              checked={detect}
              onChange={(e) => {
                const on = e.target.checked;
                setDetect(on);
                setRegion(null);
                setPicked(null);
                setObjects(null);
                if (photo) void search(photo.file, null, null, on, on);
              }}
            />
            Find the products in the photo and search the main one
          </label>
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
        {likeOf && answer && !loading && (
          <p className="small" style={{ margin: 0 }} data-testid="like-of">
            More like <strong>{likeOf.title}</strong> (
            <span className="mono">{likeOf.externalId}</span>), which is left out.
          </p>
        )}
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
                onMoreLike={moreLike}
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
  onMoreLike,
}: {
  hit: ReturnType<typeof cutHits>[number];
  rank: number;
  first: boolean;
  cutCount: number;
  onMoreLike: (hit: LikeOf) => void;
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
          <button
            type="button"
            className="compact"
            aria-label={`More like this: ${hit.title}`}
            onClick={() => {
              onMoreLike(hit);
            }}
          >
            More like this
          </button>
        </div>
      </li>
    </>
  );
}
