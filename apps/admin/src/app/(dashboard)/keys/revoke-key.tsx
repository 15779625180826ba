'use client';

import { useRouter } from 'next/navigation';
import { ConfirmButton } from '@/components/confirm-button';
import { revokeKey } from './actions';

export function RevokeKey({
  id,
  name,
  prefix,
  own,
}: {
  id: string;
  name: string;
  prefix: string;
  own: boolean;
}) {
  const router = useRouter();
  return (
    <ConfirmButton
      label="Revoke"
      buttonLabel={`Revoke ${name}`}
      title={`Revoke “${name}”?`}
      confirmLabel="Revoke key"
      onConfirm={async () => {
        const result = await revokeKey(id);
        if (!result.ok) return result.error;
        router.refresh();
        return null;
      }}
    >
      <p>
        Requests with <code>lk_{prefix}_…</code> will be refused from now on. This cannot be undone.
      </p>
      {own && (
        <p className="alert warn">
          This is the key you are signed in with: the dashboard will sign you out.
        </p>
      )}
    </ConfirmButton>
  );
}
