import type { ReactNode } from 'react';
import { Nav } from '@/components/nav';
import { requireSession } from '@/server/session';
import { signOut } from '../signin/actions';

export const dynamic = 'force-dynamic';

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const { viewer } = await requireSession();
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
            model <span className="mono">{viewer.model.key}</span> · {viewer.model.dims}-d ·{' '}
            {viewer.model.executionProvider}
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
