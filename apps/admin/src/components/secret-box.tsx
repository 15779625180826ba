'use client';

import { useState } from 'react';

/**
 * A secret shown once (a new API key, a webhook endpoint's signing secret) with a copy button.
 * Render it keyed by the secret, so a new one starts as not yet copied.
 */
export function SecretBox({ secret, testId }: { secret: string; testId: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="secret">
      <code data-testid={testId} style={{ flex: 1 }}>
        {secret}
      </code>
      <button
        type="button"
        onClick={() => {
          // The Clipboard API exists only in secure contexts (https, localhost); elsewhere
          // select the secret so Ctrl+C copies it.
          if (!('clipboard' in navigator)) {
            const code = document.querySelector(`[data-testid="${testId}"]`);
            if (code) window.getSelection()?.selectAllChildren(code);
            return;
          }
          void navigator.clipboard.writeText(secret).then(
            () => {
              setCopied(true);
            },
            () => {
              setCopied(false);
            },
          );
        }}
      >
        {copied ? 'Copied ✓' : 'Copy'}
      </button>
    </div>
  );
}
