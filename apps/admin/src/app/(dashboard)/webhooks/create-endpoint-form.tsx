'use client';

import { useActionState } from 'react';
import { SecretBox } from '@/components/secret-box';
import { useHydrated } from '@/components/use-hydrated';
import type { WebhookEvent } from '@/lib/types';
import { createEndpoint, type CreateEndpointState } from './actions';

/** `events`: the API's list (webhookEvents), so a new event shows here without a release. */
export function CreateEndpointForm({ events }: { events: readonly WebhookEvent[] }) {
  const [state, action, pending] = useActionState<CreateEndpointState, FormData>(
    createEndpoint,
    {},
  );
  const ready = useHydrated();
  return (
    <section className="panel stack" aria-labelledby="create-h">
      <h2 id="create-h">Add an endpoint</h2>
      <form
        data-ready={ready || undefined}
        action={action}
        className="row"
        style={{ alignItems: 'flex-start' }}
      >
        <div className="field" style={{ minWidth: 360, flex: 1 }}>
          <label htmlFor="endpoint-url">URL</label>
          <input
            id="endpoint-url"
            name="url"
            type="url"
            required
            placeholder="https://shop.example.com/hooks/lookalike"
            aria-invalid={state.field === 'url' ? true : undefined}
          />
          <span className="hint">
            Receives a signed POST per event (Standard Webhooks); a 2xx answer delivers it, anything
            else is retried with backoff.
          </span>
        </div>
        <fieldset>
          <legend>Events</legend>
          {events.map((e) => (
            <label key={e.name} className="check">
              <input
                type="checkbox"
                name="events"
                value={e.name}
                defaultChecked={e.name === 'import.completed'}
              />{' '}
              <code>{e.name}</code>
              <span className="muted small">{e.description}</span>
            </label>
          ))}
        </fieldset>
        <button
          type="submit"
          className="primary"
          disabled={pending}
          style={{ alignSelf: 'flex-end' }}
        >
          {pending ? 'Adding…' : 'Add endpoint'}
        </button>
      </form>
      {state.error && (
        <div role="alert" className="alert error">
          {state.error}
        </div>
      )}
      {state.secret && (
        <div className="alert ok stack" role="status">
          <div>
            Endpoint <strong className="mono">{state.url}</strong> added. Copy its signing secret
            now: it is shown only this once. Check every delivery&apos;s{' '}
            <code>webhook-signature</code> with it (the SDK&apos;s <code>verifyWebhook</code>).
          </div>
          <SecretBox key={state.secret} secret={state.secret} testId="new-webhook-secret" />
        </div>
      )}
    </section>
  );
}
