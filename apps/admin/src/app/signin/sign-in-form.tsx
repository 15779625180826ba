'use client';

import { useActionState } from 'react';
import { signIn, type SignInState } from './actions';

export function SignInForm() {
  const [state, action, pending] = useActionState<SignInState, FormData>(signIn, {});
  return (
    <form action={action} className="stack" noValidate>
      <div className="field">
        <label htmlFor="apiKey">API key</label>
        <input
          id="apiKey"
          name="apiKey"
          type="password"
          autoComplete="off"
          spellCheck={false}
          required
          placeholder="lk_…"
          aria-invalid={state.error ? true : undefined}
          aria-describedby={state.error ? 'signin-error' : undefined}
        />
      </div>
      {state.error && (
        <div id="signin-error" role="alert" className="alert error">
          {state.error}
        </div>
      )}
      <button type="submit" className="primary" disabled={pending}>
        {pending ? (
          <>
            <span className="spinner" aria-hidden="true" /> Signing in…
          </>
        ) : (
          'Sign in'
        )}
      </button>
    </form>
  );
}
