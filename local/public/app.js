// The demo page: connect as a user, subscribe, publish, watch messages arrive, and watch the
// client SDK (@wskit/client, served by the gateway at /wskit-client.js) keep the session
// whole: each message's seq, gaps recovered from history after a reconnect, the HTTP
// fallback (state `degraded`), connection quality and the metrics reporter.
//
// The "Break the connection" buttons act on this page's client only: its WebSocket
// constructor, its fetch and its view of the network are wrapped here (DemoSocket,
// demoFetch, demoEnvironment), so the SDK meets what a real outage does to it while the
// gateway, other tabs and the backend publisher carry on.

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
/** topic -> the SDK's unsubscribe function */
const subscriptions = new Map();
let messageCount = 0;
/** @type {any} the current WskitClient, undefined when disconnected */
let client;
/** @type {any} the current metrics reporter */
let reporter;

/** What GET /dev/config said (stage, publicTopicPrefixes, callbackPath, httpApiPath, broadcaster). */
const config = fetch('/dev/config')
  .then((res) => (res.ok ? res.json() : {}))
  .catch(() => ({}));

// ------------------------------------------------------------------ a breakable network

/** The simulated outage of this page's client. */
const sim = {
  /** The network is gone: sockets cut, new ones and HTTP calls fail, the SDK is told it is offline. */
  offline: false,
  /** WebSocket upgrades fail (HTTP still works), as behind a proxy that blocks them. */
  blockWebSockets: false,
  /** @type {Set<DemoSocket>} */
  sockets: new Set(),
  /** @type {Set<(event: 'online' | 'offline' | 'visible' | 'hidden') => void>} */
  listeners: new Set(),
};

/**
 * The browser's WebSocket, which the outage buttons can cut (no close frame reaches the
 * client: error, then close 1006, as when the network goes away) and refuse (a new socket
 * fails before opening, as a refused upgrade looks to a page).
 */
class DemoSocket {
  /** @type {WebSocket | undefined} */
  #ws;
  #state = 0;
  /** @param {string} url */
  constructor(url) {
    /** @type {((event: any) => void) | null} */ this.onopen = null;
    /** @type {((event: any) => void) | null} */ this.onmessage = null;
    /** @type {((event: any) => void) | null} */ this.onclose = null;
    /** @type {((event: any) => void) | null} */ this.onerror = null;
    if (sim.offline || sim.blockWebSockets) {
      setTimeout(() => this.#end(), sim.offline ? 0 : 40);
      return;
    }
    const ws = new WebSocket(url);
    this.#ws = ws;
    sim.sockets.add(this);
    ws.onopen = (event) => this.onopen?.(event);
    ws.onmessage = (event) => this.onmessage?.(event);
    ws.onerror = (event) => this.onerror?.(event);
    ws.onclose = (event) => {
      sim.sockets.delete(this);
      this.onclose?.(event);
    };
  }

  get readyState() {
    return this.#ws ? this.#ws.readyState : this.#state;
  }

  /** @param {string} data */
  send(data) {
    if (!this.#ws) throw new DOMException('the socket is closed', 'InvalidStateError');
    this.#ws.send(data);
  }

  /** @param {number} [code]  @param {string} [reason] */
  close(code, reason) {
    if (this.#ws) this.#ws.close(code, reason);
  }

  /** The network under this socket is gone: the server sees the connection end, the client an abnormal close. */
  cut() {
    const ws = this.#ws;
    if (!ws) return;
    this.#ws = undefined;
    sim.sockets.delete(this);
    ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
    try {
      ws.close();
    } catch {
      // already closing
    }
    this.#end();
  }

  #end() {
    this.#state = 3;
    this.onerror?.(new Event('error'));
    this.onclose?.(new CloseEvent('close', { code: 1006, reason: '', wasClean: false }));
  }
}

/** Message ids seen in history pages: over the WebSocket (recovered) and over HTTP (degraded). */
const historyMids = new Set();
const httpMids = new Set();
/** @param {Set<string>} set  @param {unknown} mid */
function remember(set, mid) {
  if (typeof mid !== 'string') return;
  set.add(mid);
  if (set.size > 5000) set.delete(/** @type {string} */ (set.values().next().value));
}

/**
 * The SDK's fetch for the HTTP API: fails while the network is dropped, and notes which
 * messages came over HTTP (history pages polled in degraded mode).
 * @param {RequestInfo | URL} input  @param {RequestInit} [init]
 */
async function demoFetch(input, init) {
  if (sim.offline) throw new TypeError('Failed to fetch (the network is dropped)');
  const res = await fetch(input, init);
  if (!res.ok || (init?.method ?? 'GET') !== 'GET') return res;
  const text = await res.text();
  try {
    const body = JSON.parse(text);
    if (Array.isArray(body?.messages)) for (const m of body.messages) remember(httpMids, m?.mid);
  } catch {
    // not JSON: the SDK says so
  }
  return new Response(text, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** The browser's online/offline and visibility, plus the simulated network drop. */
const demoEnvironment = {
  isOnline: () => navigator.onLine !== false && !sim.offline,
  /** @param {(event: 'online' | 'offline' | 'visible' | 'hidden') => void} listener */
  subscribe(listener) {
    const online = () => !sim.offline && listener('online');
    const offline = () => listener('offline');
    const visibility = () => listener(document.visibilityState === 'hidden' ? 'hidden' : 'visible');
    addEventListener('online', online);
    addEventListener('offline', offline);
    document.addEventListener('visibilitychange', visibility);
    sim.listeners.add(listener);
    return () => {
      removeEventListener('online', online);
      removeEventListener('offline', offline);
      document.removeEventListener('visibilitychange', visibility);
      sim.listeners.delete(listener);
    };
  },
};

/** @type {ReturnType<typeof setInterval> | undefined} */
let breakTimer;

/** @param {'network' | 'websocket'} kind */
function breakConnection(kind) {
  const seconds = Number(/** @type {HTMLSelectElement} */ ($('break-seconds')).value) || 5;
  const until = Date.now() + seconds * 1000;
  if (kind === 'network') sim.offline = true;
  else sim.blockWebSockets = true;
  for (const socket of [...sim.sockets]) socket.cut();
  if (kind === 'network') for (const listener of [...sim.listeners]) listener('offline');
  setBreakButtons();
  const what = kind === 'network' ? 'Network dropped' : 'WebSockets blocked';
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left > 0) {
      $('break-status').textContent = `${what} · ${left} s left`;
      return;
    }
    clearInterval(breakTimer);
    breakTimer = undefined;
    sim.offline = false;
    sim.blockWebSockets = false;
    setBreakButtons();
    if (kind === 'network') {
      $('break-status').textContent = 'Network back: the SDK reconnects now and fetches what it missed.';
      if (navigator.onLine !== false) for (const listener of [...sim.listeners]) listener('online');
    } else {
      $('break-status').textContent = 'WebSockets allowed again: the next connect attempt opens one.';
    }
  };
  clearInterval(breakTimer);
  breakTimer = setInterval(tick, 250);
  tick();
}

function setBreakButtons() {
  const usable = client !== undefined && !sim.offline && !sim.blockWebSockets;
  for (const id of ['drop-network', 'block-websocket']) /** @type {HTMLButtonElement} */ ($(id)).disabled = !usable;
}

// ------------------------------------------------------------------ rendering

const STATE_TEXT = {
  connecting: 'Connecting…',
  open: 'Connected',
  degraded: 'Degraded · over HTTP',
  reconnecting: 'Reconnecting…',
  closed: 'Disconnected',
};

/**
 * @param {'idle' | 'connecting' | 'open' | 'degraded' | 'reconnecting' | 'closed' | 'unavailable'} state
 * @param {string} text
 */
function setStatus(state, text) {
  $('status').dataset.state = state;
  $('status-text').textContent = text;
  const live = state === 'open' || state === 'connecting' || state === 'reconnecting' || state === 'degraded';
  // While reconnecting, subscribe and publish stay usable: the SDK queues them (degraded: sends them over HTTP).
  for (const id of ['subscribe', 'publish']) {
    /** @type {HTMLButtonElement} */ ($(id)).disabled = !(state === 'open' || state === 'reconnecting' || state === 'degraded');
  }
  /** @type {HTMLButtonElement} */ ($('disconnect')).disabled = !live;
  /** @type {HTMLButtonElement} */ ($('ping')).disabled = state !== 'open';
  const connectButton = /** @type {HTMLButtonElement} */ ($('connect'));
  connectButton.disabled = state === 'unavailable';
  connectButton.textContent = live ? 'Reconnect' : 'Connect';
  $('state').textContent = state === 'idle' || state === 'unavailable' ? '—' : state;
  setBreakButtons();
}

/** @param {string} text  @param {'warn' | 'bad' | 'info'} [kind] */
function showNotice(text, kind = 'warn') {
  const notice = $('notice');
  notice.textContent = text;
  notice.className = `notice ${kind}`;
  notice.hidden = false;
}

function hideNotice() {
  $('notice').hidden = true;
}

/** Says something to screen readers without moving focus. */
function announce(/** @type {string} */ text) {
  $('announcer').textContent = text;
}

/** @param {'in' | 'out'} direction  @param {string} text */
function logFrame(direction, text) {
  const isPing = text.includes('"action":"ping"') || text.includes('"type":"pong"');
  if (isPing && !(/** @type {HTMLInputElement} */ ($('show-pings')).checked)) return;
  const li = document.createElement('li');
  li.className = direction;
  const dir = document.createElement('span');
  dir.className = 'dir';
  dir.textContent = direction === 'in' ? '↓' : '↑';
  dir.setAttribute('aria-label', direction === 'in' ? 'received' : 'sent');
  const body = document.createElement('span');
  body.className = 'text';
  body.textContent = text;
  body.title = text;
  li.append(dir, body);
  const list = $('frames');
  list.prepend(li);
  while (list.children.length > 200) list.lastElementChild?.remove();
}

/** @param {HTMLLIElement} li */
function addToFeed(li) {
  const list = $('messages');
  list.querySelector('.empty')?.remove();
  list.prepend(li);
  while (list.children.length > 300) list.lastElementChild?.remove();
}

/** @param {{ topic: string, data: unknown, ts?: number, seq?: number, mid?: string }} message */
function showMessage(message) {
  const via = historyMids.has(message.mid) ? 'history' : httpMids.has(message.mid) ? 'http' : 'live';
  const li = document.createElement('li');
  li.className = `message via-${via}`;
  li.dataset.topic = String(message.topic);
  li.dataset.via = via;
  if (typeof message.seq === 'number') li.dataset.seq = String(message.seq);
  const head = document.createElement('header');
  const topic = document.createElement('span');
  topic.className = 'topic';
  topic.textContent = String(message.topic);
  head.append(topic);
  if (typeof message.seq === 'number') {
    const seq = document.createElement('span');
    seq.className = 'seq';
    seq.textContent = `#${message.seq}`;
    seq.title = `sequence number ${message.seq} of ${message.topic}`;
    head.append(seq);
  }
  if (via !== 'live') {
    const tag = document.createElement('span');
    tag.className = `tag ${via}`;
    tag.textContent = via === 'history' ? 'recovered' : 'over HTTP';
    head.append(tag);
  }
  const time = document.createElement('time');
  time.textContent = new Date(Number(message.ts) || Date.now()).toLocaleTimeString();
  head.append(time);
  const data = document.createElement('div');
  data.className = 'data';
  data.textContent = typeof message.data === 'string' ? message.data : JSON.stringify(message.data, null, 2);
  li.append(head, data);
  addToFeed(li);
  $('message-count').textContent = String(++messageCount);
}

/** A line in the feed that is not a message: a recovery, or messages lost for good. */
function showNote(/** @type {'recovered' | 'gap'} */ kind, /** @type {string} */ text) {
  const li = document.createElement('li');
  li.className = `note ${kind}`;
  const icon = document.createElement('span');
  icon.className = 'icon';
  icon.setAttribute('aria-hidden', 'true');
  icon.textContent = kind === 'gap' ? '!' : '↻';
  const body = document.createElement('span');
  body.textContent = text;
  li.append(icon, body);
  addToFeed(li);
  announce(text);
}

/** @param {number} from  @param {number} to */
const seqRange = (from, to) => (from === to ? `seq ${from}` : `seq ${from}–${to}`);

const GAP_REASONS = {
  retention: 'older than the server keeps',
  unavailable: 'the server could not serve them',
  reset: "the topic's numbering started again",
};

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
  $('quality-badge').hidden = true;
}

/** What the SDK counts and measures, and what its reporter did. */
function renderHealth() {
  const c = client;
  if (!c) return;
  const stats = c.stats;
  const q = stats.quality;
  $('quality').textContent = q?.quality ?? '—';
  $('rtt-p50').textContent = q?.rttMs ? `${q.rttMs.p50} ms` : '—';
  $('rtt-p95').textContent = q?.rttMs ? `${q.rttMs.p95} ms (${q.rttMs.count})` : '—';
  $('rtt-p95').title = q?.rttMs ? `95th percentile of the last ${q.rttMs.count} round trips` : '';
  $('delivered').textContent = String(stats.messagesDelivered);
  $('recovered-gaps').textContent = String(stats.recoveredGaps);
  $('lost-gaps').textContent = String(stats.unrecoveredGaps);
  $('duplicates').textContent = String(stats.duplicatesDropped);
  $('reconnects').textContent = String(stats.reconnects);
  if (reporter) {
    $('reports-sent').textContent = String(reporter.sent);
    $('reports-dropped').textContent = String(reporter.dropped);
    $('reports-pending').textContent = String(reporter.pending);
  }
  if (q) {
    const badge = $('quality-badge');
    badge.hidden = false;
    badge.dataset.quality = q.quality;
    $('quality-badge-text').textContent = q.quality;
  }
}

/** A client report as the gateway listed it, in one line. */
function describeReport(/** @type {any} */ report) {
  const parts = [];
  const time = new Date(String(report.receivedAt));
  parts.push(Number.isNaN(time.getTime()) ? '?' : time.toLocaleTimeString());
  parts.push(`v${String(report.clientVersion)}`);
  if (typeof report.periodMs === 'number') parts.push(`${Math.round(report.periodMs / 1000)} s`);
  const reconnects = Number(report.counters?.reconnects ?? 0);
  parts.push(`${reconnects} ${reconnects === 1 ? 'reconnect' : 'reconnects'}`);
  if (typeof report.rttMs?.p95 === 'number') parts.push(`p95 ${report.rttMs.p95} ms`);
  const q = report.qualityMs;
  const total = q ? Number(q.good ?? 0) + Number(q.degraded ?? 0) + Number(q.poor ?? 0) : 0;
  if (total > 0) {
    const pct = (/** @type {number} */ ms) => `${Math.round((Number(ms ?? 0) / total) * 100)}%`;
    parts.push(`good ${pct(q.good)} · degraded ${pct(q.degraded)} · poor ${pct(q.poor)}`);
  }
  return parts.join(' · ');
}

let lastReportsTotal = -1;
async function refreshGatewayReports() {
  let body;
  try {
    const res = await fetch('/dev/reports');
    if (!res.ok) return;
    body = await res.json();
  } catch {
    return;
  }
  if (!Array.isArray(body?.reports) || body.total === lastReportsTotal) return;
  lastReportsTotal = body.total;
  $('gateway-reports-total').textContent = `(${body.total} from all clients)`;
  const list = $('gateway-reports');
  if (body.reports.length === 0) return;
  list.replaceChildren(
    ...body.reports.slice(0, 5).map((/** @type {unknown} */ report) => {
      const li = document.createElement('li');
      li.textContent = describeReport(report);
      return li;
    }),
  );
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

// ------------------------------------------------------------------ the client

/** @type {ReturnType<typeof setInterval> | undefined} */
let healthTimer;

/**
 * @param {any} sdk the client SDK module
 * @param {string} user
 */
async function startClient(sdk, user) {
  stopClient();
  feedback('');
  setStatus('connecting', 'Connecting…');
  const { httpApiPath } = await config;
  const httpUrl = typeof httpApiPath === 'string' ? `${location.origin}${httpApiPath}` : undefined;
  $('http-url').textContent = httpUrl ?? 'none (the HTTP API is not built)';
  $('own-topic').textContent = `user:${user}`;
  $('http-url').title = httpUrl ?? '';
  const intervalS = Math.min(3600, Math.max(1, Math.round(Number(/** @type {HTMLInputElement} */ ($('report-interval')).value) || 30)));
  const quality = sdk.qualityMonitor();
  const nextReporter = sdk.metricsReporter({ intervalMs: intervalS * 1000, quality });
  // A provider, not a string: the SDK asks again when the token is about to expire or refused.
  const next = sdk.connect({
    url: wsUrl,
    token: () => mintToken(user),
    httpUrl,
    WebSocket: DemoSocket,
    fetch: demoFetch,
    environment: demoEnvironment,
    // A ping every 10 s keeps the round-trip figures current; reconnect attempts at most 5 s
    // apart keep the outage buttons' demonstrations short.
    heartbeat: { intervalMs: 10_000 },
    reconnect: { maxDelayMs: 5_000 },
    extensions: [quality, nextReporter],
  });
  client = next;
  reporter = nextReporter;
  window.wskitClient = next;
  setBreakButtons();

  next.on('state', (/** @type {{ state: keyof typeof STATE_TEXT, reason?: any }} */ { state, reason }) => {
    if (client !== next) return;
    if (state === 'connecting') setStatus('connecting', 'Connecting…');
    else if (state === 'open') {
      setStatus('open', STATE_TEXT.open);
      hideNotice();
    } else if (state === 'degraded') {
      setStatus('degraded', STATE_TEXT.degraded);
      showNotice(
        `WebSocket connects keep failing (${describeReason(reason)}): your topics are polled and your publishes sent over the HTTP API, ` +
          'while the SDK keeps trying the WebSocket.',
        'info',
      );
    } else if (state === 'reconnecting') {
      setStatus('reconnecting', reason?.kind === 'offline' ? 'Offline · waiting for the network' : STATE_TEXT.reconnecting);
      showNotice(
        `Connection lost: ${describeReason(reason)}. Reconnecting${reason?.kind === 'offline' ? ' as soon as the network is back' : ''}; ` +
          'each topic resumes after the last message you saw, and messages you publish meanwhile are sent then.',
      );
    } else if (state === 'closed') {
      const why = reason && reason.kind !== 'client' ? ` (${describeReason(reason)})` : '';
      setStatus('closed', `Disconnected${why}`);
      hideNotice();
      clearFacts();
    }
    renderHealth();
  });
  next.on('reconnecting', (/** @type {{ attempt: number, delayMs?: number }} */ { attempt, delayMs }) => {
    if (client !== next || delayMs === undefined || next.state === 'degraded') return;
    $('status-text').textContent = `Reconnecting · attempt ${attempt} in ${(delayMs / 1000).toFixed(1)} s`;
  });
  next.on('open', (/** @type {{ connectionId: string, userId?: string }} */ { connectionId, userId }) => {
    if (client !== next) return;
    $('connection-id').textContent = connectionId;
    $('connection-id').title = connectionId;
    $('user-id').textContent = userId ?? user;
    $('own-topic').textContent = `user:${userId ?? user}`;
    renderHealth();
    // A first round trip, so the quality has a measurement before the first heartbeat.
    next.request('ping', { ts: Date.now() }, { queue: false }).then(renderHealth, () => undefined);
  });
  next.on('network', (/** @type {{ online: boolean }} */ { online }) => {
    if (client !== next || next.state !== 'open') return;
    // The socket may survive a short outage: the SDK pings it and replaces it if it died.
    if (online) hideNotice();
    else showNotice('The browser went offline: checking whether the connection is still alive…');
  });
  next.on('frame', (/** @type {{ direction: 'in' | 'out', text: string }} */ { direction, text }) => {
    if (client !== next) return;
    if (direction === 'in' && text.includes('"type":"history"')) noteHistory(text);
    logFrame(direction, text);
  });
  next.on('gap', (/** @type {{ topic: string, from: number, to: number, reason: keyof typeof GAP_REASONS }} */ { topic, from, to, reason }) => {
    if (client !== next) return;
    showNote('gap', `Lost ${seqRange(from, to)} of ${topic}: ${GAP_REASONS[reason] ?? reason}.`);
    renderHealth();
  });
  next.on('quality', () => client === next && renderHealth());
  next.on('subscriptionError', (/** @type {{ topic: string, error: Error }} */ { topic, error }) => {
    subscriptions.delete(topic);
    renderSubscriptions();
    feedback(`${topic}: ${error.message}`, 'bad');
  });
  next.on('dropped', (/** @type {{ action: string }} */ { action }) => feedback(`A queued ${action} was dropped: the offline queue is full`, 'bad'));
  clearInterval(healthTimer);
  healthTimer = setInterval(() => {
    renderHealth();
    void refreshGatewayReports();
  }, 1000);
}

/** A history page over the WebSocket: the messages in it are ones the SDK is recovering. */
function noteHistory(/** @type {string} */ text) {
  let reply;
  try {
    reply = JSON.parse(text);
  } catch {
    return;
  }
  if (reply?.type !== 'history' || !Array.isArray(reply.messages)) return;
  const seqs = reply.messages.map((/** @type {any} */ m) => m?.seq).filter((/** @type {unknown} */ s) => typeof s === 'number');
  for (const m of reply.messages) remember(historyMids, m?.mid);
  if (seqs.length > 0) {
    const n = seqs.length;
    showNote('recovered', `Recovering ${seqRange(Math.min(...seqs), Math.max(...seqs))} of ${String(reply.topic)} from history (${n} ${n === 1 ? 'message' : 'messages'} missed)`);
  }
}

function stopClient() {
  const previous = client;
  client = undefined;
  reporter = undefined;
  window.wskitClient = undefined;
  clearInterval(healthTimer);
  // close() ends the server's subscriptions with the connection: no unsubscribe frames needed.
  subscriptions.clear();
  renderSubscriptions();
  clearFacts();
  hideNotice();
  setBreakButtons();
  void previous?.close();
}

// ------------------------------------------------------------------ the backend publisher

/** @type {ReturnType<typeof setInterval> | undefined} */
let publisherTimer;
let published = 0;
let publishing = false;

async function publishFromBackend() {
  if (publishing) return;
  publishing = true;
  const topic = /** @type {HTMLInputElement} */ ($('publish-topic')).value.trim();
  const n = ++published;
  try {
    const res = await fetch('/dev/publish', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ topic, data: `Backend message ${n}` }) });
    const body = await res.json().catch(() => ({}));
    const status = res.ok ? String(body.results?.[0]?.status ?? '?') : `HTTP ${res.status}: ${body.message ?? ''}`;
    $('backend-status').textContent = `Sent ${n} to ${topic} · last: ${status}`;
  } catch (err) {
    $('backend-status').textContent = `Sent ${n} · last failed: ${/** @type {Error} */ (err).message}`;
  } finally {
    publishing = false;
  }
}

function toggleBackendPublisher() {
  const button = /** @type {HTMLButtonElement} */ ($('backend-publisher'));
  if (publisherTimer) {
    clearInterval(publisherTimer);
    publisherTimer = undefined;
    button.setAttribute('aria-pressed', 'false');
    button.textContent = 'Start backend publisher';
    return;
  }
  button.setAttribute('aria-pressed', 'true');
  button.textContent = 'Stop backend publisher';
  publisherTimer = setInterval(() => void publishFromBackend(), 500);
  void publishFromBackend();
}

// ------------------------------------------------------------------ wiring

/** @param {any} sdk */
function wireUp(sdk) {
  $('connect-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void startClient(sdk, /** @type {HTMLInputElement} */ ($('user')).value.trim());
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
    const state = client.state;
    if (state !== 'open' && state !== 'degraded') feedback('Queued: sent when the connection is back');
    try {
      const reply = await client.publish(topic, data);
      const seq = typeof reply.seq === 'number' ? ` · seq ${reply.seq}` : '';
      if (state === 'degraded' || typeof reply.delivered !== 'number') {
        feedback(`Published${state === 'degraded' ? ' over HTTP' : ''}${seq}`, 'ok');
      } else {
        feedback(`Delivered to ${reply.delivered} ${reply.delivered === 1 ? 'connection' : 'connections'}${seq}`, 'ok');
      }
    } catch (err) {
      feedback(String(/** @type {Error} */ (err).message), 'bad');
    }
  });

  $('ping').addEventListener('click', async () => {
    const button = /** @type {HTMLButtonElement} */ ($('ping'));
    button.disabled = true;
    try {
      for (let i = 0; i < 5 && client?.state === 'open'; i++) {
        await client.request('ping', { ts: Date.now() }, { queue: false });
        renderHealth();
      }
    } catch {
      // the connection went away; the state says so
    } finally {
      button.disabled = client?.state !== 'open';
    }
  });

  $('drop-network').addEventListener('click', () => breakConnection('network'));
  $('block-websocket').addEventListener('click', () => breakConnection('websocket'));
}

$('clear-frames').addEventListener('click', () => $('frames').replaceChildren());
$('backend-publisher').addEventListener('click', toggleBackendPublisher);
$('ws-url').textContent = wsUrl;
void config.then((c) => {
  if (c.callbackPath) $('callback-url').textContent = `${location.origin}${c.callbackPath}/{id}`;
  if (c.publicTopicPrefixes?.length) $('public-prefix').textContent = c.publicTopicPrefixes.join(', ');
  if (c.broadcaster === false) {
    /** @type {HTMLButtonElement} */ ($('backend-publisher')).disabled = true;
    $('backend-status').textContent = 'No broadcaster: run ./build.sh';
  }
});
void refreshGatewayReports();

// Loaded at run time rather than by a static import, so that a missing bundle leaves a
// page that says what to do instead of a blank one.
try {
  const sdk = await import('/wskit-client.js');
  wireUp(sdk);
  setStatus('idle', 'Not connected');
} catch {
  setStatus('unavailable', 'Client SDK missing');
  showNotice('The client SDK bundle (/wskit-client.js) is not built: run `node client/build.mjs` (./build.sh does it too), then reload this page.', 'bad');
}
