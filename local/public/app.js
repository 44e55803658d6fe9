// The demo page: connect as a user, subscribe, publish, watch messages arrive.
// All WebSocket handling sits in connection.js so it can be replaced by the client SDK.
import { DemoConnection } from './connection.js';

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
const subscriptions = new Set();
let messageCount = 0;

/** @param {'idle' | 'connecting' | 'open' | 'closed'} state  @param {string} text */
function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status-text').textContent = text;
  const open = state === 'open';
  for (const id of ['subscribe', 'publish', 'disconnect']) /** @type {HTMLButtonElement} */ ($(id)).disabled = !open;
  const connectButton = /** @type {HTMLButtonElement} */ ($('connect'));
  connectButton.disabled = state === 'connecting';
  connectButton.textContent = open ? 'Reconnect' : 'Connect';
}

/** @param {'in' | 'out'} direction  @param {string} text */
function logFrame(direction, text) {
  const li = document.createElement('li');
  li.className = direction;
  const dir = document.createElement('span');
  dir.className = 'dir';
  dir.textContent = direction === 'in' ? '↓' : '↑';
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  body.title = text;
  li.append(dir, body);
  const list = $('frames');
  list.prepend(li);
  while (list.children.length > 200) list.lastElementChild?.remove();
}

/** @param {Record<string, unknown>} frame */
function showMessage(frame) {
  if (frame.type !== 'message') return;
  const list = $('messages');
  list.querySelector('.empty')?.remove();
  const li = document.createElement('li');
  li.className = 'message';
  const head = document.createElement('header');
  const topic = document.createElement('span');
  topic.className = 'topic';
  topic.textContent = String(frame.topic);
  const time = document.createElement('time');
  time.textContent = new Date(Number(frame.ts) || Date.now()).toLocaleTimeString();
  head.append(topic, time);
  const data = document.createElement('div');
  data.className = 'data';
  data.textContent = typeof frame.data === 'string' ? frame.data : JSON.stringify(frame.data, null, 2);
  li.append(head, data);
  list.prepend(li);
  $('message-count').textContent = String(++messageCount);
}

function renderSubscriptions() {
  const list = $('subscriptions');
  list.replaceChildren();
  if (subscriptions.size === 0) {
    const empty = document.createElement('li');
    empty.className = 'empty';
    empty.textContent = 'No subscriptions yet';
    list.append(empty);
    return;
  }
  for (const topic of subscriptions) {
    const li = document.createElement('li');
    li.textContent = topic;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.title = `Unsubscribe from ${topic}`;
    remove.setAttribute('aria-label', `Unsubscribe from ${topic}`);
    remove.textContent = '×';
    remove.addEventListener('click', async () => {
      try {
        await connection.request('unsubscribe', { topic });
        subscriptions.delete(topic);
        renderSubscriptions();
      } catch (err) {
        feedback(String(/** @type {Error} */ (err).message), 'bad');
      }
    });
    li.append(remove);
    list.append(li);
  }
}

/** @param {string} text  @param {'ok' | 'bad' | ''} [kind] */
function feedback(text, kind = '') {
  const el = $('publish-feedback');
  el.textContent = text;
  el.className = `feedback ${kind}`;
}

const connection = new DemoConnection({
  onState: (state, detail) => {
    if (state === 'connecting') setStatus('connecting', 'Connecting…');
    else if (state === 'open') setStatus('open', 'Connected');
    else {
      const why = detail && detail.code !== 1005 ? ` (${detail.code}${detail.reason ? ` ${detail.reason}` : ''})` : '';
      setStatus('closed', `Disconnected${why}`);
      subscriptions.clear();
      renderSubscriptions();
      $('connection-id').textContent = '—';
      $('rtt').textContent = '—';
    }
  },
  onMessage: showMessage,
  onFrame: logFrame,
});

async function mintToken(/** @type {string} */ sub) {
  const res = await fetch('/dev/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ sub }) });
  const body = await res.json();
  if (!res.ok) throw new Error(body.message ?? `token endpoint answered ${res.status}`);
  return /** @type {string} */ (body.token);
}

$('connect-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const user = /** @type {HTMLInputElement} */ ($('user')).value.trim();
  feedback('');
  try {
    setStatus('connecting', 'Minting a token…');
    const token = await mintToken(user);
    await connection.connect(wsUrl, token);
    const welcome = await connection.request('hello');
    if (welcome.type !== 'welcome') throw new Error(String(welcome.message ?? 'no welcome'));
    $('connection-id').textContent = String(welcome.connectionId);
    $('connection-id').title = String(welcome.connectionId);
    $('user-id').textContent = String(welcome.userId);
    $('own-topic').textContent = `user:${welcome.userId}`;
    const sent = performance.now();
    await connection.request('ping', { ts: Date.now() });
    $('rtt').textContent = `${Math.round(performance.now() - sent)} ms`;
  } catch (err) {
    setStatus('closed', String(/** @type {Error} */ (err).message));
  }
});

$('disconnect').addEventListener('click', () => connection.close());

$('subscribe-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const topic = /** @type {HTMLInputElement} */ ($('topic')).value.trim();
  try {
    const reply = await connection.request('subscribe', { topic });
    if (reply.type === 'ack') {
      subscriptions.add(topic);
      renderSubscriptions();
      feedback(`Subscribed to ${topic}`, 'ok');
    } else {
      feedback(String(reply.message ?? reply.code), 'bad');
    }
  } catch (err) {
    feedback(String(/** @type {Error} */ (err).message), 'bad');
  }
});

$('publish-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const topic = /** @type {HTMLInputElement} */ ($('publish-topic')).value.trim();
  const data = /** @type {HTMLTextAreaElement} */ ($('publish-data')).value;
  try {
    const reply = await connection.request('publish', { topic, data });
    if (reply.type === 'ack') {
      const n = Number(reply.delivered ?? 0);
      feedback(`Delivered to ${n} ${n === 1 ? 'connection' : 'connections'}`, 'ok');
    }
    else feedback(String(reply.message ?? reply.code), 'bad');
  } catch (err) {
    feedback(String(/** @type {Error} */ (err).message), 'bad');
  }
});

$('clear-frames').addEventListener('click', () => $('frames').replaceChildren());

$('ws-url').textContent = wsUrl;
fetch('/dev/config')
  .then((res) => res.json())
  .then((config) => {
    $('callback-url').textContent = `${location.origin}${config.callbackPath}/{id}`;
    if (config.publicTopicPrefixes?.length) $('public-prefix').textContent = config.publicTopicPrefixes.join(', ');
  })
  .catch(() => undefined);
setStatus('idle', 'Not connected');
