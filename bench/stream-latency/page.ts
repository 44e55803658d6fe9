/** The bench's page: follows the topics and stamps each message with the browser's clock. */
import { connect } from '@wskit/client';

declare global {
  interface Window {
    samples: Array<{ topic: string; n: number; writtenAt: number; receivedAt: number }>;
    ready: Promise<void>;
  }
}

const topics = new URLSearchParams(location.search).getAll('topic');
window.samples = [];
const client = connect({
  url: `ws://${location.host}/`,
  token: async () => ((await (await fetch('/dev/token', { method: 'POST', body: JSON.stringify({ sub: 'bench' }) })).json()) as { token: string }).token,
});
window.ready = Promise.all(
  topics.map(
    (topic) =>
      client.subscribe<{ item?: { n: number; writtenAt: number }; n?: number; writtenAt?: number }>(topic, (data) => {
        const receivedAt = Date.now();
        const fields = data.item ?? data;
        window.samples.push({ topic, n: Number(fields.n), writtenAt: Number(fields.writtenAt), receivedAt });
      }).ready,
  ),
).then(() => undefined);
