'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useRef, useTransition } from 'react';

/** A refresh that has not landed after this long is not waited for any more. */
const GIVE_UP_MS = 10_000;

/**
 * Re-renders the page's server components every `everyMs` while `active` (a re-index running):
 * router.refresh keeps client state (an open dialog, a message) and scroll. One refresh at a
 * time: a tick while the last one is still on its way is skipped, so a slow API is not piled on.
 */
export function RefreshWhile({ active, everyMs = 1000 }: { active: boolean; everyMs?: number }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  /** When the refresh on its way started; null when none is. */
  const since = useRef<number | null>(null);
  useEffect(() => {
    if (!pending) since.current = null;
  }, [pending]);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => {
      const now = Date.now();
      if (since.current !== null && now - since.current < GIVE_UP_MS) return;
      since.current = now;
      startTransition(() => {
        router.refresh();
      });
    }, everyMs);
    return () => {
      clearInterval(timer);
    };
  }, [active, everyMs, router]);
  return null;
}
