import {
  WebhookDeliveriesDocument,
  WebhookEndpointsDocument,
  WebhookEventsDocument,
} from '@lookalike/sdk';
import type { Metadata } from 'next';
import { RefreshWhile } from '@/components/refresh-while';
import { formatDate, formatTimestamp } from '@/lib/format';
import type { WebhookDelivery, WebhookDeliveryPage, WebhookEndpoint } from '@/lib/types';
import { refreshEveryMs, WATCH_MS } from '@/lib/webhooks';
import { requireSession } from '@/server/session';
import { CreateEndpointForm } from './create-endpoint-form';
import { EndpointActions } from './endpoint-actions';

export const metadata: Metadata = { title: 'Webhooks' };

/** Recent deliveries shown per endpoint. */
const DELIVERIES = 10;

export default async function WebhooksPage() {
  const session = await requireSession();
  if (!session.can('SETTINGS_WRITE')) {
    return (
      <div className="stack">
        <h1>Webhooks</h1>
        <div className="alert warn">
          This key has no SETTINGS_WRITE scope, so it cannot list, add, test or delete webhook
          endpoints (the API shows them only to keys with it).
        </div>
      </div>
    );
  }
  const { api } = session;
  const [{ webhookEndpoints: endpoints }, { webhookEvents: events }] = await Promise.all([
    api.request(WebhookEndpointsDocument),
    api.request(WebhookEventsDocument),
  ]);
  const deliveries: WebhookDeliveryPage[] = await Promise.all(
    endpoints.map(
      async (e) =>
        (await api.request(WebhookDeliveriesDocument, { endpointId: e.id, first: DELIVERIES }))
          .webhookDeliveries,
    ),
  );
  // This page is rendered per request: "now" is the request's.
  const everyMs = refreshEveryMs(
    deliveries.flatMap((d) => d.nodes),
    Date.now(),
  );

  return (
    <div className="stack">
      <RefreshWhile active={everyMs !== null} everyMs={everyMs ?? WATCH_MS} />
      <div className="page-head">
        <div>
          <h1>Webhooks</h1>
          <p className="muted">
            Endpoints your systems run to hear of imports, images and model switches as they happen.
            Each delivery is signed per Standard Webhooks with the endpoint&apos;s secret (headers{' '}
            <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>)
            and retried with backoff until it is answered with a 2xx; the <code>webhook-id</code>{' '}
            stays the same on every attempt.
          </p>
        </div>
      </div>
      <CreateEndpointForm events={events} />
      {endpoints.length === 0 ? (
        <div className="panel">
          <p className="muted" style={{ margin: 0 }}>
            No endpoints yet.
          </p>
        </div>
      ) : (
        endpoints.map((e, i) => (
          <EndpointCard key={e.id} endpoint={e} deliveries={deliveries[i]?.nodes ?? []} />
        ))
      )}
      {everyMs !== null && (
        <p className="small muted" style={{ margin: 0 }}>
          <span className="spinner" aria-hidden="true" /> Deliveries are pending: this page
          refreshes itself{everyMs <= 1000 ? ' every second' : ' while they wait to be retried'}.
        </p>
      )}
    </div>
  );
}

function EndpointCard({
  endpoint,
  deliveries,
}: {
  endpoint: WebhookEndpoint;
  deliveries: readonly WebhookDelivery[];
}) {
  const headingId = `endpoint-${endpoint.id}`;
  return (
    <section className="panel stack" data-endpoint={endpoint.id} aria-labelledby={headingId}>
      <div className="row" style={{ justifyContent: 'space-between', alignItems: 'flex-start' }}>
        <div className="stack" style={{ gap: '0.35rem' }}>
          <h2 id={headingId} className="mono" style={{ margin: 0, wordBreak: 'break-all' }}>
            {endpoint.url}
          </h2>
          <span className="row" style={{ gap: '0.25rem' }}>
            {endpoint.events.map((ev) => (
              <span key={ev} className="badge scope">
                {ev}
              </span>
            ))}
          </span>
          <span className="small muted">added {formatDate(endpoint.createdAt)}</span>
        </div>
        <EndpointActions endpoint={endpoint} />
      </div>
      <h3 style={{ margin: 0 }}>Recent deliveries</h3>
      {deliveries.length === 0 ? (
        <p className="muted small" style={{ margin: 0 }}>
          None yet: send a test event to try the endpoint.
        </p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>event</th>
              <th>status</th>
              <th className="num">attempts</th>
              <th className="num">response</th>
              <th>last error</th>
              <th>next attempt</th>
              <th>created</th>
              <th>delivered</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((d) => (
              <tr key={d.id} data-delivery={d.id} data-event={d.eventType} data-status={d.status}>
                <td>
                  <code>{d.eventType}</code>
                  <br />
                  <span className="mono small muted" title="webhook-id">
                    {d.eventId}
                  </span>
                </td>
                <td>
                  <span className={`badge status-${d.status}`}>{d.status}</span>
                </td>
                <td className="num">{d.attempts}</td>
                <td className="num">{d.lastStatus ?? <span className="muted">—</span>}</td>
                <td className="small">
                  {d.lastError ? (
                    <span className="status-text error">{d.lastError}</span>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td className="small">
                  {d.status === 'PENDING' ? (
                    formatTimestamp(d.nextAttemptAt)
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td className="small">{formatTimestamp(d.createdAt)}</td>
                <td className="small">
                  {d.deliveredAt ? (
                    formatTimestamp(d.deliveredAt)
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
