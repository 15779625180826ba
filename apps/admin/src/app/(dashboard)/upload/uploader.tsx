'use client';

import Link from 'next/link';
import { useEffect, useMemo, useRef, useState } from 'react';
import { Dropzone } from '@/components/dropzone';
import { externalIdFromFileName, titleFromFileName, type ExternalIdRule } from '@/lib/external-id';
import { formatBytes } from '@/lib/format';
import { isErrorBody, postForm } from '@/lib/upload-client';

type Mode = 'create' | 'attach' | 'ensure';
type State = 'queued' | 'uploading' | 'processing' | 'done' | 'error';

interface Item {
  key: number;
  file: File;
  preview: string;
  state: State;
  progress: number;
  error?: string;
  /** From the API, once done. */
  productId?: string;
  created?: boolean;
}

interface UploadOk {
  productId: string;
  externalId: string;
  created: boolean;
}

const MODES: { value: Mode; label: string; hint: string }[] = [
  {
    value: 'create',
    label: 'Create a new product per image',
    hint: 'Fails for a file whose externalId is already in the catalog.',
  },
  {
    value: 'attach',
    label: 'Add to existing products',
    hint: 'Fails for a file whose externalId is not in the catalog.',
  },
  {
    value: 'ensure',
    label: 'Add to existing products, create missing ones',
    hint: 'Folders of product photos: any number of images per product.',
  },
];

/** Two requests at a time keep the API's embedder batching without flooding a small server. */
const CONCURRENCY = 2;

export function Uploader() {
  const [items, setItems] = useState<Item[]>([]);
  const [mode, setMode] = useState<Mode>('create');
  const [rule, setRule] = useState<ExternalIdRule>('name');
  const [category, setCategory] = useState('');
  const [running, setRunning] = useState(false);
  const nextKey = useRef(0);
  const previews = useRef<string[]>([]);

  useEffect(
    () => () => {
      for (const url of previews.current) URL.revokeObjectURL(url);
    },
    [],
  );

  const idOf = (file: File) => externalIdFromFileName(file.name, rule);

  function add(files: File[]) {
    const added = files.map((file) => {
      const preview = URL.createObjectURL(file);
      previews.current.push(preview);
      return { key: nextKey.current++, file, preview, state: 'queued' as const, progress: 0 };
    });
    setItems((prev) => [...prev, ...added]);
  }

  const patch = (key: number, p: Partial<Item>) => {
    setItems((prev) => prev.map((it) => (it.key === key ? { ...it, ...p } : it)));
  };

  async function send(item: Item) {
    const externalId = idOf(item.file);
    if (!externalId) {
      patch(item.key, { state: 'error', error: 'No externalId can be read from this file name.' });
      return;
    }
    patch(item.key, { state: 'uploading', progress: 0, error: undefined });
    const form = new FormData();
    form.set('mode', mode);
    form.set('externalId', externalId);
    form.set('title', titleFromFileName(rule === 'prefix' ? externalId : item.file.name));
    if (category.trim()) form.set('category', category.trim());
    form.set('file', item.file, item.file.name);
    try {
      const res = await postForm<UploadOk>('/api/upload', form, (p) => {
        patch(item.key, p < 1 ? { progress: p } : { progress: 1, state: 'processing' });
      });
      if (isErrorBody(res.body) || !res.body)
        patch(item.key, { state: 'error', error: res.body?.error ?? `HTTP ${res.status}` });
      else
        patch(item.key, {
          state: 'done',
          progress: 1,
          productId: res.body.productId,
          created: res.body.created,
        });
    } catch (error) {
      patch(item.key, {
        state: 'error',
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  async function run(which: Item[]) {
    setRunning(true);
    // Files naming the same product go one after another (the first may create it); different
    // products go CONCURRENCY at a time.
    const groups = new Map<string, Item[]>();
    for (const it of which) {
      const id = idOf(it.file) ?? `#${it.key}`;
      groups.set(id, [...(groups.get(id) ?? []), it]);
    }
    const queue = [...groups.values()];
    const worker = async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        for (const it of group) await send(it);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    setRunning(false);
  }

  const counts = useMemo(() => {
    const c = {
      total: items.length,
      queued: 0,
      done: 0,
      error: 0,
      created: 0,
      attached: 0,
      active: 0,
    };
    for (const it of items) {
      if (it.state === 'queued') c.queued++;
      else if (it.state === 'done') {
        c.done++;
        if (it.created) c.created++;
        else c.attached++;
      } else if (it.state === 'error') c.error++;
      else c.active++;
    }
    return c;
  }, [items]);
  const finished = items.length > 0 && counts.queued === 0 && counts.active === 0;

  return (
    <div className="stack">
      <div className="panel grid-2">
        <fieldset>
          <legend>For each file</legend>
          {MODES.map((m) => (
            <label key={m.value} className="check">
              <input
                type="radio"
                name="mode"
                value={m.value}
                checked={mode === m.value}
                disabled={running}
                onChange={() => {
                  setMode(m.value);
                }}
              />
              <span>
                {m.label}
                <span className="hint" style={{ display: 'block' }}>
                  {m.hint}
                </span>
              </span>
            </label>
          ))}
        </fieldset>
        <div className="stack">
          <fieldset>
            <legend>externalId from the file name</legend>
            <label className="check">
              <input
                type="radio"
                name="rule"
                value="name"
                checked={rule === 'name'}
                disabled={running}
                onChange={() => {
                  setRule('name');
                }}
              />
              Whole name: <code>SKU-1_back.jpg</code> → <code>SKU-1_back</code>
            </label>
            <label className="check">
              <input
                type="radio"
                name="rule"
                value="prefix"
                checked={rule === 'prefix'}
                disabled={running}
                onChange={() => {
                  setRule('prefix');
                }}
              />
              Up to the first underscore: <code>SKU-1_back.jpg</code> → <code>SKU-1</code>
            </label>
          </fieldset>
          <div className="field">
            <label htmlFor="new-category">Category of new products (optional)</label>
            <input
              id="new-category"
              type="text"
              value={category}
              disabled={running || mode === 'attach'}
              onChange={(e) => {
                setCategory(e.target.value);
              }}
              placeholder="e.g. Sneaker"
            />
          </div>
        </div>
      </div>

      <Dropzone onFiles={add} folders disabled={running}>
        <p>
          <strong>Drop images or folders here</strong>
          <br />
          JPEG, PNG, WebP, GIF, TIFF or AVIF; the API checks each file.
        </p>
      </Dropzone>

      {items.length > 0 && (
        <section className="panel stack" aria-labelledby="files-h">
          <div className="row" style={{ justifyContent: 'space-between' }}>
            <h2 id="files-h" style={{ margin: 0 }}>
              {items.length} {items.length === 1 ? 'file' : 'files'}
            </h2>
            <div className="row">
              {counts.error > 0 && !running && (
                <button
                  type="button"
                  onClick={() => void run(items.filter((i) => i.state === 'error'))}
                >
                  Retry {counts.error} failed
                </button>
              )}
              <button
                type="button"
                disabled={running}
                onClick={() => {
                  setItems((prev) => prev.filter((i) => i.state !== 'done'));
                }}
              >
                Clear finished
              </button>
              <button
                type="button"
                className="primary"
                disabled={running || counts.queued === 0}
                onClick={() => void run(items.filter((i) => i.state === 'queued'))}
              >
                {running ? (
                  <>
                    <span className="spinner" aria-hidden="true" /> Uploading…
                  </>
                ) : counts.queued ? (
                  `Upload ${counts.queued} ${counts.queued === 1 ? 'file' : 'files'}`
                ) : (
                  'Nothing to upload'
                )}
              </button>
            </div>
          </div>

          {finished && (
            <div
              role="status"
              className={`alert ${counts.error ? 'warn' : 'ok'}`}
              data-testid="upload-summary"
            >
              <div className="summary">
                <div>
                  <strong>{counts.done}</strong> uploaded
                </div>
                <div>
                  <strong>{counts.created}</strong> new products
                </div>
                <div>
                  <strong>{counts.attached}</strong> added to existing
                </div>
                <div>
                  <strong>{counts.error}</strong> failed
                </div>
              </div>
              <p style={{ margin: '0.5rem 0 0' }}>
                {counts.error
                  ? 'The failed files changed nothing; everything else is stored and searchable. '
                  : 'Everything is stored and searchable. '}
                <Link href="/catalog">Open the catalog</Link>
              </p>
            </div>
          )}

          <ul className="upload-list" aria-label="Files">
            {items.map((it) => {
              const id = idOf(it.file);
              return (
                <li
                  key={it.key}
                  className="upload-item"
                  data-state={it.state}
                  data-file={it.file.name}
                >
                  <img
                    src={it.preview}
                    alt=""
                    onError={(e) => {
                      // Not an image the browser can show either: keep the slot, drop the icon.
                      e.currentTarget.style.visibility = 'hidden';
                    }}
                  />
                  <div style={{ minWidth: 0 }}>
                    <div className="name" title={it.file.webkitRelativePath || it.file.name}>
                      {it.file.webkitRelativePath || it.file.name}
                    </div>
                    <div className="small muted">{formatBytes(it.file.size)}</div>
                  </div>
                  <div className="small" style={{ minWidth: 0 }}>
                    {id ? (
                      <>
                        <span className="muted">externalId </span>
                        <span className="mono">{id}</span>
                      </>
                    ) : (
                      <span className="status-text error">no externalId</span>
                    )}
                  </div>
                  <div aria-live="polite">
                    {it.state === 'queued' && <span className="muted small">Queued</span>}
                    {it.state === 'uploading' && (
                      <>
                        <div
                          className="progress"
                          role="progressbar"
                          aria-label={`Uploading ${it.file.name}`}
                          aria-valuemin={0}
                          aria-valuemax={100}
                          aria-valuenow={Math.round(it.progress * 100)}
                        >
                          <span style={{ width: `${Math.round(it.progress * 100)}%` }} />
                        </div>
                        <span className="small muted">{Math.round(it.progress * 100)}%</span>
                      </>
                    )}
                    {it.state === 'processing' && (
                      <span className="small muted">
                        <span className="spinner" aria-hidden="true" /> Embedding…
                      </span>
                    )}
                    {it.state === 'done' && (
                      <span className="status-text done">
                        ✓ {it.created ? 'New product' : 'Added'}{' '}
                        {it.productId && (
                          <Link href={`/catalog/${it.productId}`} className="small">
                            view
                          </Link>
                        )}
                      </span>
                    )}
                    {it.state === 'error' && (
                      <span className="status-text error" role="alert">
                        {it.error}
                      </span>
                    )}
                  </div>
                </li>
              );
            })}
          </ul>
        </section>
      )}
    </div>
  );
}
