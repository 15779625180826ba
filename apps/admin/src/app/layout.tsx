import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import './globals.css';

// Every page renders per request, the not-found page too: the Content-Security-Policy's nonce
// (src/proxy.ts) is new each time, and a page prerendered at build time would carry none.
export const dynamic = 'force-dynamic';

export const metadata: Metadata = {
  title: { default: 'Lookalike admin', template: '%s · Lookalike admin' },
  description: 'Catalog, visual search and threshold tuning for Lookalike.',
  robots: { index: false, follow: false },
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
