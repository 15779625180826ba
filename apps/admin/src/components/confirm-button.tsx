'use client';

import { useId, useRef, useState, type ReactNode } from 'react';
import { useHydrated } from './use-hydrated';

/**
 * A button that asks first, in a modal <dialog> (focus moves into it, Escape cancels). The
 * action's error, if any, shows in the dialog and keeps it open.
 */
export function ConfirmButton({
  label,
  title,
  children,
  confirmLabel,
  onConfirm,
  buttonClass = 'danger',
  buttonLabel,
}: {
  label: ReactNode;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => Promise<string | null>;
  buttonClass?: string;
  /** Accessible name of the opening button, when `label` is not enough. */
  buttonLabel?: string;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const titleId = useId();
  const ready = useHydrated();
  return (
    <>
      <button
        type="button"
        className={buttonClass}
        aria-label={buttonLabel}
        data-ready={ready || undefined}
        onClick={() => {
          setError(null);
          dialog.current?.showModal();
        }}
      >
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId}>
        <div className="stack">
          <h2 id={titleId}>{title}</h2>
          <div>{children}</div>
          {error && (
            <div role="alert" className="alert error">
              {error}
            </div>
          )}
          <div className="row" style={{ justifyContent: 'flex-end' }}>
            <button type="button" autoFocus onClick={() => dialog.current?.close()} disabled={busy}>
              Cancel
            </button>
            <button
              type="button"
              className="danger solid"
              disabled={busy}
              onClick={() => {
                setBusy(true);
                void onConfirm()
                  .then((problem) => {
                    if (problem) setError(problem);
                    else dialog.current?.close();
                  })
                  .finally(() => {
                    setBusy(false);
                  });
              }}
            >
              {busy ? 'Working…' : confirmLabel}
            </button>
          </div>
        </div>
      </dialog>
    </>
  );
}
