import type { Metadata } from 'next';
import path from 'node:path';
import { redirect } from 'next/navigation';
import { env } from '@/env';
import { getSession } from '@/server/session';
import { SignInForm } from './sign-in-form';

export const metadata: Metadata = { title: 'Sign in' };
export const dynamic = 'force-dynamic';

export default async function SignInPage() {
  if (await getSession().catch(() => null)) redirect('/catalog');
  const keyFile = path.join(env().dataDir, 'bootstrap-key');
  return (
    <main className="signin">
      <div className="panel stack">
        <div className="brand" style={{ color: 'var(--ink)', padding: 0 }}>
          <span className="brand-mark" aria-hidden="true" /> Lookalike admin
        </div>
        <div>
          <h1>Sign in</h1>
          <p className="muted small" style={{ margin: 0 }}>
            With an API key of your shop. It stays on this server, sealed in an httpOnly cookie; the
            browser never sees it.
          </p>
        </div>
        <SignInForm />
        <div className="alert info small">
          Running locally with <code>npm start</code>? The API created a first key with every scope
          and saved it in <code>{keyFile}</code> (under Docker Compose:{' '}
          <code>docker compose exec api cat /data/bootstrap-key</code>). Keys need the{' '}
          <strong>SEARCH</strong> scope; editing needs CATALOG_WRITE, saving thresholds
          SETTINGS_WRITE, and the keys page KEYS_ADMIN.
        </div>
      </div>
    </main>
  );
}
