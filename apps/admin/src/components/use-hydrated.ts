'use client';

import { useEffect, useState } from 'react';

/**
 * True once React has hydrated the component. Interactive widgets expose it as `data-ready`, so
 * browser tests (and assistive tooling) know when a click or a drop will be handled.
 */
export function useHydrated(): boolean {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => {
    setHydrated(true);
  }, []);
  return hydrated;
}
