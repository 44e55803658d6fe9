// The demo page: connect as a user, subscribe, publish, watch messages arrive. The
// connection is the client SDK (@wskit/client), served by the gateway at /wskit-client.js:
// it reconnects with backoff, waits for the browser to come back online, restores the
// subscriptions and queues what is published meanwhile.

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
/** topic -> the SDK's unsubscribe function */
const subscriptions = new Map();
let messageCount = 0;
/** @type {any} the current WskitClient, undefined when disconnected */
let client;

/**
 * @param {'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' | 'unavailable'} state
 * @param {string} text
 */
function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status-text').textContent = text;
  const live = state === 'open' || state === 'connecting' || state === 'reconnecting';
  // While reconnecting, subscribe and publish stay usable: the SDK queues them.
  for (const id of ['subscribe', 'publish']) /** @type {HTMLButtonElement} */ ($(id)).disabled = !(state === 'open' || state === 'reconnecting');
  /** @type {HTMLButtonElement} */ ($('disconnect')).disabled = !live;
  const connectButton = /** @type {HTMLButtonElement} */ ($('connect'));
  connectButton.disabled = state === 'unavailable';
  connectButton.textContent = live ? 'Reconnect' : 'Connect';
}

/** @param {string} text  @param {'warn' | 'bad'} [kind] */
function showNotice(text, kind = 'warn') {
  const notice = $('notice');
  notice.textContent = text;
  notice.className = `notice ${kind}`;
  notice.hidden = false;
}

function hideNotice() {
  $('notice').hidden = true;
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

/** @param {{ topic: string, data: unknown, ts?: number }} message */
function showMessage(message) {
  const list = $('messages');
  list.querySelector('.empty')?.remove();
  const li = document.createElement('li');
  li.className = 'message';
  const head = document.createElement('header');
  const topic = document.createElement('span');
  topic.className = 'topic';
  topic.textContent = String(message.topic);
  const time = document.createElement('time');
  time.textContent = new Date(Number(message.ts) || Date.now()).toLocaleTimeString();
  head.append(topic, time);
  const data = document.createElement('div');
  data.className = 'data';
  data.textContent = typeof message.data === 'string' ? message.data : JSON.stringify(message.data, null, 2);
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
  for (const [topic, unsubscribe] of subscriptions) {
    const li = document.createElement('li');
    li.textContent = topic;
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.title = `Unsubscribe from ${topic}`;
    remove.setAttribute('aria-label', `Unsubscribe from ${topic}`);
    remove.textContent = '×';
    remove.addEventListener('click', () => {
      unsubscribe();
      subscriptions.delete(topic);
      renderSubscriptions();
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

function clearFacts() {
  $('connection-id').textContent = '—';
  $('connection-id').title = '';
  $('rtt').textContent = '—';
}

/** A close reason of the SDK (`{ kind, code?, message? }`) in words. */
function describeReason(/** @type {{ kind: string, code?: number, message?: string } | undefined} */ reason) {
  if (!reason) return '';
  if (reason.kind === 'offline') return 'the browser is offline';
  if (reason.kind === 'server-close') return `the server closed it${reason.code ? ` (${reason.code}${reason.message ? ` ${reason.message}` : ''})` : ''}`;
  return reason.kind.replace(/-/g, ' ') + (reason.message ? `: ${reason.message}` : '');
}

async function mintToken(/** @type {string} */ sub) {
  const res = await fetch('/dev/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ sub }) });
  const body = await res.json();
  if (!res.ok) throw new Error(body.message ?? `token endpoint answered ${res.status}`);
  return /** @type {string} */ (body.token);
}

/** @param {(options: object) => any} connect  @param {string} user */
function startClient(connect, user) {
  stopClient();
  feedback('');
  setStatus('connecting', 'Connecting…');
  // A provider, not a string: the SDK asks again when the token is about to expire or refused.
  const next = connect({ url: wsUrl, token: () => mintToken(user) });
  client = next;
  window.wskitClient = next;
  let connections = 0;

  next.on('state', (/** @type {{ state: string, reason?: any }} */ { state, reason }) => {
    if (client !== next) return;
    if (state === 'connecting') setStatus('connecting', 'Connecting…');
    else if (state === 'open') {
      setStatus('open', 'Connected');
      hideNotice();
    } else if (state === 'reconnecting') {
      setStatus('reconnecting', reason?.kind === 'offline' ? 'Offline · waiting for the network' : 'Reconnecting…');
      $('rtt').textContent = '—';
      showNotice(
        `Connection lost: ${describeReason(reason)}. Reconnecting${reason?.kind === 'offline' ? ' as soon as the browser is back online' : ''}; ` +
          'your subscriptions are restored and messages you publish meanwhile are sent then.',
      );
    } else if (state === 'closed') {
      const why = reason && reason.kind !== 'client' ? ` (${describeReason(reason)})` : '';
      setStatus('closed', `Disconnected${why}`);
      hideNotice();
      clearFacts();
    }
  });
  next.on('reconnecting', (/** @type {{ attempt: number, delayMs?: number }} */ { attempt, delayMs }) => {
    if (client !== next || delayMs === undefined) return;
    $('status-text').textContent = `Reconnecting · attempt ${attempt} in ${(delayMs / 1000).toFixed(1)} s`;
  });
  next.on('open', async (/** @type {{ connectionId: string, userId?: string }} */ { connectionId, userId }) => {
    if (client !== next) return;
    $('reconnects').textContent = String(connections++);
    $('connection-id').textContent = connectionId;
    $('connection-id').title = connectionId;
    $('user-id').textContent = userId ?? user;
    $('own-topic').textContent = `user:${userId ?? user}`;
    try {
      const sent = performance.now();
      await next.request('ping', { ts: Date.now() });
      $('rtt').textContent = `${Math.round(performance.now() - sent)} ms`;
    } catch {
      // the connection went away again; the state badge says so
    }
  });
  next.on('network', (/** @type {{ online: boolean }} */ { online }) => {
    if (client !== next || next.state !== 'open') return;
    // The socket may survive a short outage: the SDK pings it and replaces it if it died.
    if (online) hideNotice();
    else showNotice('The browser went offline: checking whether the connection is still alive…');
  });
  next.on('frame', (/** @type {{ direction: 'in' | 'out', text: string }} */ { direction, text }) => logFrame(direction, text));
  next.on('subscriptionError', (/** @type {{ topic: string, error: Error }} */ { topic, error }) => {
    subscriptions.delete(topic);
    renderSubscriptions();
    feedback(`${topic}: ${error.message}`, 'bad');
  });
  next.on('dropped', (/** @type {{ action: string }} */ { action }) => feedback(`A queued ${action} was dropped: the offline queue is full`, 'bad'));
}

function stopClient() {
  const previous = client;
  client = undefined;
  window.wskitClient = undefined;
  // close() ends the server's subscriptions with the connection: no unsubscribe frames needed.
  subscriptions.clear();
  renderSubscriptions();
  clearFacts();
  hideNotice();
  void previous?.close();
}

/** @param {(options: object) => any} connect */
function wireUp(connect) {
  $('connect-form').addEventListener('submit', (event) => {
    event.preventDefault();
    startClient(connect, /** @type {HTMLInputElement} */ ($('user')).value.trim());
  });

  $('disconnect').addEventListener('click', () => {
    stopClient();
    setStatus('closed', 'Disconnected');
  });

  $('subscribe-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const topic = /** @type {HTMLInputElement} */ ($('topic')).value.trim();
    if (!client || subscriptions.has(topic)) return;
    const unsubscribe = client.subscribe(topic, (/** @type {unknown} */ _data, /** @type {any} */ message) => showMessage(message));
    subscriptions.set(topic, unsubscribe);
    renderSubscriptions();
    try {
      await unsubscribe.ready;
      feedback(`Subscribed to ${topic}`, 'ok');
    } catch (err) {
      // subscriptionError has removed the chip and said why
      feedback(`${topic}: ${/** @type {Error} */ (err).message}`, 'bad');
    }
  });

  $('publish-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!client) return;
    const topic = /** @type {HTMLInputElement} */ ($('publish-topic')).value.trim();
    const data = /** @type {HTMLTextAreaElement} */ ($('publish-data')).value;
    if (client.state !== 'open') feedback('Queued: sent when the connection is back');
    try {
      const reply = await client.publish(topic, data);
      const n = Number(reply.delivered ?? 0);
      feedback(`Delivered to ${n} ${n === 1 ? 'connection' : 'connections'}`, 'ok');
    } catch (err) {
      feedback(String(/** @type {Error} */ (err).message), 'bad');
    }
  });
}

$('clear-frames').addEventListener('click', () => $('frames').replaceChildren());
$('ws-url').textContent = wsUrl;
fetch('/dev/config')
  .then((res) => res.json())
  .then((config) => {
    $('callback-url').textContent = `${location.origin}${config.callbackPath}/{id}`;
    if (config.publicTopicPrefixes?.length) $('public-prefix').textContent = config.publicTopicPrefixes.join(', ');
  })
  .catch(() => undefined);

// Loaded at run time rather than by a static import, so that a missing bundle leaves a
// page that says what to do instead of a blank one.
try {
  const sdk = await import('/wskit-client.js');
  wireUp(sdk.connect);
  setStatus('idle', 'Not connected');
} catch {
  setStatus('unavailable', 'Client SDK missing');
  showNotice('The client SDK bundle (/wskit-client.js) is not built: run `node client/build.mjs` (./build.sh does it too), then reload this page.', 'bad');
}
