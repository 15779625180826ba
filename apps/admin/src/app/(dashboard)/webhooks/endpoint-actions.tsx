'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { ConfirmButton } from '@/components/confirm-button';
import { useHydrated } from '@/components/use-hydrated';
import type { WebhookEndpoint } from '@/lib/types';
import { deleteEndpoint, sendTest } from './actions';

/**
 * An endpoint's buttons: send it a webhook.test event (its delivery then shows in the table,
 * PENDING until the dispatcher has posted it: the page refreshes itself meanwhile), and delete
 * it after a confirmation.
 */
export function EndpointActions({ endpoint }: { endpoint: WebhookEndpoint }) {
  const router = useRouter();
  const ready = useHydrated();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  return (
    <div className="stack" style={{ gap: '0.5rem' }}>
      <div className="row">
        <button
          type="button"
          disabled={busy}
          data-ready={ready || undefined}
          aria-label={`Send a test event to ${endpoint.url}`}
          onClick={() => {
            setBusy(true);
            setError(null);
            setNote(null);
            void sendTest(endpoint.id)
              .then((result) => {
                if (!result.ok) {
                  setError(result.error);
                  return;
                }
                setNote(
                  `Test event ${result.data.eventId} queued; its delivery below updates by itself.`,
                );
                router.refresh();
              })
              .finally(() => {
                setBusy(false);
              });
          }}
        >
          Send test event
        </button>
        <ConfirmButton
          label="Delete"
          buttonLabel={`Delete ${endpoint.url}`}
          title="Delete this endpoint?"
          confirmLabel="Delete endpoint"
          onConfirm={async () => {
            const result = await deleteEndpoint(endpoint.id);
            if (!result.ok) return result.error;
            router.refresh();
            return null;
          }}
        >
          <p>
            <code>{endpoint.url}</code> gets no more events, and its pending deliveries are dropped.
            Its secret cannot be restored: adding the URL again makes a new one.
          </p>
        </ConfirmButton>
      </div>
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
    </div>
  );
}
