import type { Metadata } from 'next';
import { formatDate } from '@/lib/format';
import { ApiKeysDocument } from '@lookalike/sdk';
import { requireSession } from '@/server/session';
import { CreateKeyForm } from './create-key-form';
import { RevokeKey } from './revoke-key';

export const metadata: Metadata = { title: 'API keys' };

export default async function KeysPage() {
  const session = await requireSession();
  if (!session.can('KEYS_ADMIN')) {
    return (
      <div className="stack">
        <h1>API keys</h1>
        <div className="alert warn">
          This key has no KEYS_ADMIN scope, so it cannot list or create keys.
        </div>
      </div>
    );
  }
  const { apiKeys } = await session.api.request(ApiKeysDocument);
  const own = session.viewer.apiKey.id;
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>API keys</h1>
          <p className="muted">
            Keys let your shop and services call the API. Only a key&apos;s prefix is kept readable;
            the secret is shown once, when it is created.
          </p>
        </div>
      </div>
      <CreateKeyForm />
      <section className="panel" aria-labelledby="keys-h">
        <h2 id="keys-h">Keys ({apiKeys.length})</h2>
        <table>
          <thead>
            <tr>
              <th>name</th>
              <th>prefix</th>
              <th>scopes</th>
              <th>created</th>
              <th>last used</th>
              <th>
                <span className="sr-only">actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {apiKeys.map((k) => (
              <tr key={k.id} data-prefix={k.prefix}>
                <td>
                  {k.name} {k.id === own && <span className="badge">this session</span>}
                </td>
                <td className="mono">lk_{k.prefix}_…</td>
                <td>
                  <span className="row" style={{ gap: '0.25rem' }}>
                    {k.scopes.map((s) => (
                      <span key={s} className="badge scope">
                        {s}
                      </span>
                    ))}
                  </span>
                </td>
                <td className="small">{formatDate(k.createdAt)}</td>
                <td className="small">{formatDate(k.lastUsedAt)}</td>
                <td>
                  {k.revokedAt ? (
                    <span className="badge revoked" title={`Revoked ${formatDate(k.revokedAt)}`}>
                      revoked
                    </span>
                  ) : (
                    <RevokeKey id={k.id} name={k.name} prefix={k.prefix} own={k.id === own} />
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}
