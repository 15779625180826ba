import type { ReactNode } from 'react';
import { Nav } from '@/components/nav';
import { ApiError } from '@/server/graphql';
import { requireSession, type Session } from '@/server/session';
import { signOut } from '../signin/actions';

export const dynamic = 'force-dynamic';

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  let session: Session;
  try {
    session = await requireSession();
  } catch (error) {
    // The API down (or answering nonsense) is the one failure every page shares: say so
    // plainly instead of a generic error page. Redirects and anything else go on.
    if (
      error instanceof ApiError &&
      (error.code === 'API_UNREACHABLE' || error.code === 'BAD_RESPONSE')
    ) {
      return (
        <main className="signin">
          <div className="panel stack">
            <h1>The API is not answering</h1>
            <div role="alert" className="alert error">
              {error.message}
            </div>
            <p className="muted small">
              The dashboard reaches the Lookalike API from its server (API_URL). Start it with{' '}
              <code>npm start</code>, then reload this page.
            </p>
          </div>
        </main>
      );
    }
    throw error;
  }
  const { viewer } = session;
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" /> Lookalike
        </div>
        <Nav />
        <div className="sidebar-foot">
          <div>
            <strong>{viewer.merchant.name}</strong>
            <br />
            key <span className="mono">{viewer.apiKey.name}</span> (
            <span className="mono">{viewer.apiKey.prefix}</span>)
            <br />
            <span data-testid="serving-model">
              model <span className="mono">{viewer.model.key}</span> · {viewer.model.dims}-d ·{' '}
              {/* Null: the API does not load the serving model, so its searches fail. */}
              {viewer.model.executionProvider ?? (
                <span className="sidebar-warn">not loaded by the API</span>
              )}
            </span>
          </div>
          <form action={signOut}>
            <button type="submit">Sign out</button>
          </form>
        </div>
      </aside>
      <main className="main" id="main">
        {children}
      </main>
    </div>
  );
}
