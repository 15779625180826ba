'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { Dropzone } from '@/components/dropzone';
import { isErrorBody, postForm } from '@/lib/upload-client';

interface Item {
  name: string;
  progress: number;
  error?: string;
  done?: boolean;
}

export function AddImages({ productId }: { productId: string }) {
  const router = useRouter();
  const [items, setItems] = useState<Item[]>([]);
  const busy = items.some((i) => !i.done && !i.error);

  async function upload(files: File[]) {
    const start = items.length;
    setItems((prev) => [...prev, ...files.map((f) => ({ name: f.name, progress: 0 }))]);
    const update = (i: number, patch: Partial<Item>) => {
      setItems((prev) => prev.map((it, j) => (j === start + i ? { ...it, ...patch } : it)));
    };
    for (const [i, file] of files.entries()) {
      const form = new FormData();
      form.set('mode', 'product');
      form.set('productId', productId);
      form.set('file', file);
      try {
        const res = await postForm('/api/upload', form, (p) => {
          update(i, { progress: p });
        });
        if (isErrorBody(res.body)) update(i, { error: res.body.error });
        else update(i, { done: true, progress: 1 });
      } catch (error) {
        update(i, { error: error instanceof Error ? error.message : String(error) });
      }
    }
    router.refresh();
  }

  return (
    <div className="stack">
      <Dropzone onFiles={(f) => void upload(f)} disabled={busy}>
        <p>
          <strong>Drop images here</strong> to add them to this product
        </p>
      </Dropzone>
      {items.length > 0 && (
        <ul className="upload-list" aria-label="Added images" aria-live="polite">
          {items.map((it, i) => (
            <li key={i} className="row small" style={{ justifyContent: 'space-between' }}>
              <span className="mono">{it.name}</span>
              {it.error ? (
                <span className="status-text error" role="alert">
                  {it.error}
                </span>
              ) : it.done ? (
                <span className="status-text done">Added</span>
              ) : (
                <span className="muted">
                  {it.progress < 1 ? `Uploading ${Math.round(it.progress * 100)}%` : 'Embedding…'}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
