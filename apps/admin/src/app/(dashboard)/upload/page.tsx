import type { Metadata } from 'next';
import { requireSession } from '@/server/session';
import { Uploader } from './uploader';

export const metadata: Metadata = { title: 'Upload' };

export default async function UploadPage() {
  const session = await requireSession();
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Upload images</h1>
          <p className="muted">
            Many images at once, or a whole folder. Each file name gives the product&apos;s
            externalId (SKU): <code>SKU-123.jpg</code> → <code>SKU-123</code>. Every image is
            stored, embedded and searchable when its row turns green.
          </p>
        </div>
      </div>
      {session.can('CATALOG_WRITE') ? (
        <Uploader />
      ) : (
        <div className="alert warn">
          This key has no CATALOG_WRITE scope, so it cannot upload. Sign in with a key that has it.
        </div>
      )}
    </div>
  );
}
