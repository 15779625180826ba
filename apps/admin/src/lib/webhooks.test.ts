import { describe, expect, it } from 'vitest';
import { refreshEveryMs, WAIT_MS, WATCH_MS } from './webhooks';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const at = (ms: number) => new Date(NOW + ms).toISOString();

describe('refreshEveryMs', () => {
  it('does not refresh when nothing is pending', () => {
    expect(refreshEveryMs([], NOW)).toBeNull();
    expect(
      refreshEveryMs(
        [
          { status: 'DELIVERED', nextAttemptAt: at(0) },
          { status: 'FAILED', nextAttemptAt: at(0) },
        ],
        NOW,
      ),
    ).toBeNull();
  });

  it('watches every second while a pending delivery is due (or overdue) within a minute', () => {
    expect(refreshEveryMs([{ status: 'PENDING', nextAttemptAt: at(-5000) }], NOW)).toBe(WATCH_MS);
    expect(
      refreshEveryMs(
        [
          { status: 'PENDING', nextAttemptAt: at(3_600_000) },
          { status: 'PENDING', nextAttemptAt: at(20_000) },
        ],
        NOW,
      ),
    ).toBe(WATCH_MS);
  });

  it('looks less often while pending deliveries wait for a later retry', () => {
    expect(refreshEveryMs([{ status: 'PENDING', nextAttemptAt: at(300_000) }], NOW)).toBe(WAIT_MS);
  });
});
