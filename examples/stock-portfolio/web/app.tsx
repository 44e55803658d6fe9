/**
 * StockPicker: a signed-in user's portfolio, live. Prices arrive on `stock:<SYMBOL>` (one
 * topic per holding, the last 60 replayed on arrival for the sparkline), the portfolio and its
 * alerts on `user:<sub>`. Everything comes from table writes through the tables' streams and
 * the broadcaster; the page only listens.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { WskitProvider, useTopic, type TopicMessage } from '@wskit/react';
import {
  ConnectionBadge,
  RecoveryBanner,
  SignIn,
  Sparkline,
  clearSession,
  devTokenProvider,
  formatTime,
  loadSession,
  pageWebSocketUrl,
  saveSession,
  type Session,
} from '@wskit/example-dev-stack/web';
import type { Alert, Portfolio, Quote, StreamPush } from '../src/model';
import { Toasts } from './toasts';

const USERS = ['alice', 'bob', 'carol'];
const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const pct = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(2)}%`;

export function App() {
  const [session, setSession] = useState<Session | undefined>(() => loadSession());
  if (!session) {
    return (
      <SignIn
        title="StockPicker"
        users={USERS}
        hint="A live portfolio on wskit: prices stream from a DynamoDB table through its stream and the broadcaster to this page."
        onSignIn={(s) => {
          saveSession(s);
          setSession(s);
        }}
      />
    );
  }
  return (
    <WskitProvider
      key={session.sub}
      options={{
        url: pageWebSocketUrl(),
        token: devTokenProvider(session.sub),
        // Notice a dead connection within 3 s of a ping, and come back within 5 s at most.
        heartbeat: { intervalMs: 15_000, timeoutMs: 3_000 },
        reconnect: { minDelayMs: 250, maxDelayMs: 5_000 },
      }}
    >
      <Dashboard
        session={session}
        onSignOut={() => {
          clearSession();
          setSession(undefined);
        }}
      />
    </WskitProvider>
  );
}

type UserPush = StreamPush<Portfolio | Alert>;

function Dashboard({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const user = useTopic<UserPush>(`user:${session.sub}`, { limit: 100, replay: 100 });
  const portfolio = useMemo(() => {
    for (let i = user.messages.length - 1; i >= 0; i--) {
      const item = user.messages[i]!.data?.item;
      if (item?.kind === 'portfolio') return item;
    }
    return undefined;
  }, [user.messages]);
  const alerts = useMemo(
    () => user.messages.filter((m): m is TopicMessage<StreamPush<Alert>> => m.data?.item?.kind === 'alert').reverse(),
    [user.messages],
  );
  const [quotes, setQuotes] = useState<Record<string, Quote>>({});
  const onQuote = useCallback((quote: Quote) => setQuotes((q) => (q[quote.symbol] === quote ? q : { ...q, [quote.symbol]: quote })), []);

  return (
    <div className="app">
      <header>
        <h1>
          StockPicker <span className="muted">· wskit example</span>
        </h1>
        <div className="who">
          <ConnectionBadge />
          <span className="user">
            signed in as <strong>{session.sub}</strong>
          </span>
          <button type="button" className="link" onClick={onSignOut}>
            sign out
          </button>
        </div>
      </header>
      <RecoveryBanner />
      {portfolio ? (
        <PortfolioView portfolio={portfolio} quotes={quotes} onQuote={onQuote} />
      ) : (
        <p className="empty" data-empty="portfolio">
          {user.status === 'error'
            ? `Cannot follow your portfolio: ${user.error?.message}`
            : `Waiting for ${session.sub}'s portfolio… The simulator keeps portfolios for ${USERS.join(', ')} and rewrites each every few seconds.`}
        </p>
      )}
      <section className="alerts">
        <h2>Recent alerts</h2>
        {alerts.length === 0 ? (
          <p className="muted">None yet: an alert is raised when a holding moves past its threshold.</p>
        ) : (
          <ul>
            {alerts.slice(0, 6).map((m) => (
              <li key={m.mid ?? m.data.item.sk} className={m.data.item.direction}>
                <span className="time">{formatTime(m.data.item.ts)}</span> {m.data.item.message}
              </li>
            ))}
          </ul>
        )}
      </section>
      <Toasts alerts={alerts} since={session.signedInAt} />
      <footer className="muted small">
        prices: <code>stock:&lt;SYMBOL&gt;</code> · portfolio and alerts: <code>user:{session.sub}</code> · table writes → DynamoDB Streams →
        broadcaster → this page
      </footer>
    </div>
  );
}

function PortfolioView({ portfolio, quotes, onQuote }: { portfolio: Portfolio; quotes: Record<string, Quote>; onQuote: (q: Quote) => void }) {
  const symbols = Object.keys(portfolio.holdings).sort();
  let value = portfolio.cash;
  let open = portfolio.cash;
  let priced = 0;
  for (const symbol of symbols) {
    const quote = quotes[symbol];
    const { quantity } = portfolio.holdings[symbol]!;
    if (!quote) continue;
    priced++;
    value += quantity * quote.price;
    open += quantity * quote.open;
  }
  const complete = priced === symbols.length;
  const change = value - open;
  return (
    <>
      <section className="summary" data-complete={complete}>
        <div>
          <div className="label">Portfolio value</div>
          <div className="value" id="portfolio-value">
            {complete ? money.format(value) : '…'}
          </div>
        </div>
        <div>
          <div className="label">Today</div>
          <div className={`value ${change >= 0 ? 'up' : 'down'}`}>
            {complete ? `${change >= 0 ? '+' : ''}${money.format(change)} (${pct((change / open) * 100)})` : '…'}
          </div>
        </div>
        <div>
          <div className="label">Cash</div>
          <div className="value">{money.format(portfolio.cash)}</div>
        </div>
        <div>
          <div className="label">Last trade</div>
          <div className="value small">
            {portfolio.lastTrade
              ? `${portfolio.lastTrade.quantity > 0 ? 'bought' : 'sold'} ${Math.abs(portfolio.lastTrade.quantity)} ${portfolio.lastTrade.symbol} @ ${portfolio.lastTrade.price.toFixed(2)}, ${formatTime(portfolio.lastTrade.ts)}`
              : '—'}
          </div>
        </div>
      </section>
      <table className="holdings">
        <thead>
          <tr>
            <th>Symbol</th>
            <th className="num">Shares</th>
            <th className="num">Price</th>
            <th className="num">Today</th>
            <th>Last 60 ticks</th>
            <th className="num">Value</th>
            <th className="num">Gain</th>
          </tr>
        </thead>
        <tbody>
          {symbols.map((symbol) => (
            <HoldingRow key={symbol} symbol={symbol} quantity={portfolio.holdings[symbol]!.quantity} cost={portfolio.holdings[symbol]!.cost} onQuote={onQuote} />
          ))}
        </tbody>
      </table>
    </>
  );
}

function HoldingRow({ symbol, quantity, cost, onQuote }: { symbol: string; quantity: number; cost: number; onQuote: (q: Quote) => void }) {
  const { data, messages, status } = useTopic<StreamPush<Quote>>(`stock:${symbol}`, { limit: 60, replay: 60 });
  const quote = data?.item;
  useEffect(() => {
    if (quote) onQuote(quote);
  }, [quote, onQuote]);
  const prices = useMemo(() => messages.map((m) => m.data.item.price), [messages]);
  const [flash, setFlash] = useState('');
  const previous = prices.length > 1 ? prices[prices.length - 2]! : undefined;
  useEffect(() => {
    if (quote === undefined || previous === undefined || quote.price === previous) return undefined;
    setFlash(quote.price > previous ? 'tick-up' : 'tick-down');
    const timer = setTimeout(() => setFlash(''), 600);
    return () => clearTimeout(timer);
  }, [quote, previous]);
  return (
    <tr className="holding" data-symbol={symbol} data-status={status} data-ticks={messages.length}>
      <td>
        <strong>{symbol}</strong> <span className="muted small">{quote?.name}</span>
      </td>
      <td className="num">{quantity}</td>
      <td className={`num price ${flash}`}>{quote ? quote.price.toFixed(2) : '…'}</td>
      <td className={`num ${quote && quote.changePct >= 0 ? 'up' : 'down'}`}>{quote ? pct(quote.changePct) : ''}</td>
      <td>
        <Sparkline values={prices} />
      </td>
      <td className="num">{quote ? money.format(quote.price * quantity) : ''}</td>
      <td className={`num ${quote && quote.price >= cost ? 'up' : 'down'}`}>{quote ? money.format((quote.price - cost) * quantity) : ''}</td>
    </tr>
  );
}
