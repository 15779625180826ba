'use client';

import { useActionState } from 'react';
import { SecretBox } from '@/components/secret-box';
import { ALL_SCOPES, type KeyScope } from '@/lib/types';
import { useHydrated } from '@/components/use-hydrated';
import { createKey, type CreateKeyState } from './actions';

const SCOPE_HELP: Record<KeyScope, string> = {
  SEARCH: 'search and read the catalog and settings',
  CATALOG_WRITE: 'create, edit and delete products and images',
  SETTINGS_WRITE: 'change the search metric and thresholds',
  KEYS_ADMIN: 'list, create and revoke API keys',
  EVALUATE: 'run catalog evaluations (the tuning studio)',
};

export function CreateKeyForm() {
  const [state, action, pending] = useActionState<CreateKeyState, FormData>(createKey, {});
  const ready = useHydrated();
  return (
    <section className="panel stack" aria-labelledby="create-h">
      <h2 id="create-h">Create a key</h2>
      <form
        data-ready={ready || undefined}
        action={action}
        className="row"
        style={{ alignItems: 'flex-start' }}
      >
        <div className="field" style={{ minWidth: 260 }}>
          <label htmlFor="key-name">Name</label>
          <input
            id="key-name"
            name="name"
            type="text"
            required
            placeholder="e.g. storefront search"
          />
        </div>
        <fieldset>
          <legend>Scopes</legend>
          {ALL_SCOPES.map((s) => (
            <label key={s} className="check">
              <input type="checkbox" name="scopes" value={s} defaultChecked={s === 'SEARCH'} />{' '}
              <code>{s}</code>
              <span className="muted small">{SCOPE_HELP[s]}</span>
            </label>
          ))}
        </fieldset>
        <button
          type="submit"
          className="primary"
          disabled={pending}
          style={{ alignSelf: 'flex-end' }}
        >
          {pending ? 'Creating…' : 'Create key'}
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
            Key <strong>{state.name}</strong> created. Copy it now: it is shown only this once.
          </div>
          <SecretBox key={state.secret} secret={state.secret} testId="new-key-secret" />
        </div>
      )}
    </section>
  );
}
