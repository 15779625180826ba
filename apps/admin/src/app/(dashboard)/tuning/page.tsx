import type { Metadata } from 'next';
import { SettingsDocument } from '@lookalike/sdk';
import { requireSession } from '@/server/session';
import { Studio } from './studio';

export const metadata: Metadata = { title: 'Tuning studio' };

export default async function TuningPage() {
  const session = await requireSession();
  const { searchSettings } = await session.api.request(SettingsDocument, {});
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Tuning studio</h1>
          <p className="muted">
            The catalog measures itself: sampled images query the rest, and another image of the
            same product (or category) counts as a correct hit. Pick the metric and thresholds from
            what that measures, preview the change, then save.
          </p>
        </div>
      </div>
      <Studio
        settings={searchSettings}
        defaults={session.viewer.model.defaults}
        canSave={session.can('SETTINGS_WRITE')}
      />
    </div>
  );
}
