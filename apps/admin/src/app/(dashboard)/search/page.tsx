import type { Metadata } from 'next';
import { SettingsDocument } from '@lookalike/sdk';
import { requireSession } from '@/server/session';
import { Playground } from './playground';

export const metadata: Metadata = { title: 'Search playground' };

export default async function SearchPage() {
  const { api, viewer } = await requireSession();
  const { searchSettings } = await api.request(SettingsDocument, {});
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Search playground</h1>
          <p className="muted">
            Search the catalog with a photo as a shopper would. Metric and thresholds change the
            results here only; save them in the <a href="/tuning">tuning studio</a>.
          </p>
        </div>
      </div>
      <Playground settings={searchSettings} defaults={viewer.model.defaults} />
    </div>
  );
}
