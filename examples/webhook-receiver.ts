// A webhook receiver: checks each delivery's Standard Webhooks signature with the SDK and prints
// the event. The signing secret is the one createWebhookEndpoint answered (once).
//
//   LOOKALIKE_WEBHOOK_SECRET=whsec_… PORT=8080 npm run example:webhooks
/* eslint-disable no-restricted-properties -- an example reads its own environment */
import { createServer } from 'node:http';
import { verifyWebhook, WebhookVerificationError } from '@lookalike/sdk';

const secret = process.env.LOOKALIKE_WEBHOOK_SECRET;
if (!secret) {
  console.error('Set LOOKALIKE_WEBHOOK_SECRET to the endpoint secret (whsec_…).');
  process.exit(2);
}
const seen = new Set<string>();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      // Verify the raw body before parsing it.
      const event = verifyWebhook(secret, Buffer.concat(chunks), req.headers);
      const id = String(req.headers['webhook-id']);
      // A retried delivery keeps its webhook-id: handle each event once.
      if (!seen.has(id)) {
        seen.add(id);
        console.log(`${event.type} ${JSON.stringify(event.data)}`);
      }
      res.writeHead(204).end();
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      console.error(`refused a delivery: ${error.message}`);
      res.writeHead(400).end();
    }
  });
});

server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  const address = server.address();
  console.log(
    `listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : '?'}/`,
  );
});
