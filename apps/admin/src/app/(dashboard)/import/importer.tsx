'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { Dropzone } from '@/components/dropzone';
import { useHydrated } from '@/components/use-hydrated';
import { formatBytes } from '@/lib/format';
import { extensionOf, IMPORT_ACCEPT, importFormatOf } from '@/lib/imports';
import type { ImportFormat, IngestJob } from '@/lib/types';
import { isErrorBody, postForm } from '@/lib/upload-client';

const FORMAT_NAMES: Record<ImportFormat, string> = {
  CSV: 'CSV',
  JSONL: 'JSON Lines',
  ZIP: 'ZIP archive',
};

/**
 * Pick or drop one catalog file, then Import: the file goes to the dashboard's /api/import
 * (with upload progress), which hands it to importCatalog; the API answers the job once it has
 * checked the file and recorded its rows, and the job's page follows it from there.
 */
export function Importer() {
  const router = useRouter();
  const ready = useHydrated();
  const [file, setFile] = useState<File | null>(null);
  /** The share of the file sent while uploading; null when not sending. */
  const [sent, setSent] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const format = file ? importFormatOf(file.name) : null;
  const sending = sent !== null;

  async function start(chosen: File, as: ImportFormat) {
    setError(null);
    setSent(0);
    const form = new FormData();
    form.set('format', as);
    form.set('file', chosen, chosen.name);
    try {
      const res = await postForm<{ job: IngestJob }>('/api/import', form, setSent);
      if (isErrorBody(res.body) || !res.body) {
        setError(res.body?.error ?? `The dashboard answered ${res.status}`);
        setSent(null);
        return;
      }
      router.push(`/import/${res.body.job.id}`);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      setSent(null);
    }
  }

  return (
    <section className="panel stack" aria-labelledby="import-h">
      <h2 id="import-h">Import a file</h2>
      <Dropzone
        multiple={false}
        accept={IMPORT_ACCEPT}
        disabled={sending}
        onFiles={(files) => {
          setFile(files[0] ?? null);
          setError(null);
        }}
      >
        <p>
          <strong>Drop a catalog file here</strong>
          <br />
          <span className="small muted">
            <code>.csv</code>, <code>.jsonl</code> / <code>.ndjson</code> or <code>.zip</code>, up
            to the API&apos;s import limit (100 MiB unless its MAX_IMPORT_BYTES says otherwise)
          </span>
        </p>
      </Dropzone>
      {file && (
        <div className="row" style={{ justifyContent: 'space-between' }} data-testid="import-file">
          <div>
            <strong className="mono">{file.name}</strong>{' '}
            <span className="muted small">{formatBytes(file.size)}</span>{' '}
            {format && <span className="badge">{FORMAT_NAMES[format]}</span>}
          </div>
          <button
            type="button"
            className="primary"
            disabled={!format || sending}
            data-ready={ready || undefined}
            onClick={() => {
              if (format) void start(file, format);
            }}
          >
            {sending ? (
              <>
                <span className="spinner" aria-hidden="true" /> Importing…
              </>
            ) : (
              'Import'
            )}
          </button>
        </div>
      )}
      {file && !format && (
        <div role="alert" className="alert error" data-testid="unknown-format">
          This file&apos;s extension ({extensionOf(file.name)}) is not one an import reads. Name a
          CSV file <code>.csv</code>, JSON Lines <code>.jsonl</code> or <code>.ndjson</code>, and an
          archive <code>.zip</code>.
        </div>
      )}
      {sending && (
        <div aria-live="polite">
          <div
            className="progress"
            role="progressbar"
            aria-label={`Uploading ${file?.name ?? 'the file'}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={Math.round(sent * 100)}
          >
            <span style={{ width: `${Math.round(sent * 100)}%` }} />
          </div>
          <span className="small muted">
            {sent < 1
              ? `Uploading: ${Math.round(sent * 100)}%`
              : 'Uploaded; the API is checking the file and recording its rows…'}
          </span>
        </div>
      )}
      {error && (
        <div role="alert" className="alert error" data-testid="import-error">
          {error}
        </div>
      )}
    </section>
  );
}
