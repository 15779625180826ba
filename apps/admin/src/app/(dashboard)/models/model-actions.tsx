'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { ConfirmButton } from '@/components/confirm-button';
import { useHydrated } from '@/components/use-hydrated';
import { formatPercent } from '@/lib/format';
import { choicesFor, missingImages } from '@/lib/models';
import type { ActionResult, EmbeddingModel, ModelSwitch } from '@/lib/types';
import { activateModel, retireModel, startReindex } from './actions';

const REINDEX_LABELS = {
  start: 'Start re-index',
  resume: 'Resume re-index',
  gaps: 'Re-index missing images',
} as const;

/** What a switch answered, said once it has happened. */
function switchedNote(s: ModelSwitch): string {
  const at = s.forced ? `, forced at ${formatPercent(s.coverage)} coverage` : '';
  return `${s.model.key} serves every search now${at}.${s.previous ? ` ${s.previous} is kept in sync for switching back.` : ''}`;
}

/** The coverage of a model that does not cover the catalog, in plain words. */
function coverageWords(model: EmbeddingModel): string {
  const { embedded, total, failed } = model.coverage;
  return `${model.key} has a vector of ${embedded} of ${total} images (${formatPercent(model.coverage.fraction)})${failed ? `; it failed on ${failed}` : ''}.`;
}

/**
 * A model's buttons: re-index, switch (asking first when its coverage is incomplete), retire
 * (asking first). Errors from the API show under them as on the other pages; a switch says what
 * it did.
 */
export function ModelActions({ model }: { model: EmbeddingModel }) {
  const { busy, error, note, perform, show } = useModelAction();
  const ready = useHydrated();
  const choices = choicesFor(model);

  return (
    <div className="stack" style={{ gap: '0.5rem' }}>
      <div className="row">
        {choices.reindex && (
          <button
            type="button"
            className="primary"
            disabled={busy}
            data-ready={ready || undefined}
            onClick={() => void show(perform(() => startReindex(model.key)))}
          >
            {REINDEX_LABELS[choices.reindex]}
          </button>
        )}
        {choices.switch === 'instant' && (
          <button
            type="button"
            className="primary"
            disabled={busy}
            data-ready={ready || undefined}
            onClick={() => void show(perform(() => activateModel(model.key, false), switchedNote))}
          >
            Switch to {model.key}
          </button>
        )}
        {choices.switch === 'forced' && (
          <ConfirmButton
            label={`Switch now (${formatPercent(model.coverage.fraction)} covered)`}
            buttonClass=""
            title={`Switch to ${model.key} before it covers the catalog?`}
            confirmLabel="Switch anyway"
            onConfirm={() => perform(() => activateModel(model.key, true), switchedNote)}
          >
            <p data-testid="force-coverage">{coverageWords(model)}</p>
            <p>
              From the switch on, every search runs on {model.key}: the {missingImages(model)}{' '}
              images without its vector cannot be found until{' '}
              {model.reindex?.running ? 'its re-index finishes' : 'they are re-indexed'}. You can
              switch back at once.
            </p>
          </ConfirmButton>
        )}
        {choices.retire && (
          <ConfirmButton
            label="Retire"
            buttonLabel={`Retire ${model.key}`}
            title={`Retire ${model.key}?`}
            confirmLabel="Retire model"
            onConfirm={() => perform(() => retireModel(model.key))}
          >
            <p>
              Its {model.coverage.embedded} vectors are deleted
              {model.reindex?.running ? ' and its re-index stops' : ''}. Using it again takes a full
              re-index.
            </p>
          </ConfirmButton>
        )}
      </div>
      <ActionMessages error={error} note={note} />
    </div>
  );
}

/** Switching back to the model that served before: instant, it is kept in sync. */
export function SwitchBack({ model }: { model: EmbeddingModel }) {
  const { busy, error, note, perform, show } = useModelAction();
  const ready = useHydrated();
  return (
    <div className="stack" style={{ gap: '0.5rem' }}>
      <div>
        <button
          type="button"
          disabled={busy}
          data-ready={ready || undefined}
          onClick={() => void show(perform(() => activateModel(model.key, false), switchedNote))}
        >
          Switch back to {model.key}
        </button>
      </div>
      <ActionMessages error={error} note={note} />
    </div>
  );
}

function ActionMessages({ error, note }: { error: string | null; note: string | null }) {
  return (
    <>
      {error && (
        <div role="alert" className="alert error">
          {error}
        </div>
      )}
      {note && (
        <div role="status" className="alert ok">
          {note}
        </div>
      )}
    </>
  );
}

/**
 * One model action at a time: `perform` runs it and, on success, refreshes the page (and the
 * sidebar) and keeps what `describe` says of the answer; it resolves with the error, for a
 * dialog to show. `show` puts that error under the buttons instead.
 */
function useModelAction() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  async function perform<T>(
    action: () => Promise<ActionResult<T>>,
    describe?: (data: T) => string,
  ): Promise<string | null> {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      const result = await action();
      if (!result.ok) return result.error;
      if (describe) setNote(describe(result.data));
      router.refresh();
      return null;
    } finally {
      setBusy(false);
    }
  }
  const show = async (done: Promise<string | null>) => {
    setError(await done);
  };
  return { busy, error, note, perform, show };
}
