/**
 * The market: a dozen symbols on a random walk, several price writes a second to the prices
 * table; a trade per user every few seconds (the portfolio item rewritten); and the alert rule,
 * which writes an alert item for every holder of a symbol that moved past the threshold. The
 * simulator only writes items: the tables' streams and the broadcaster do the pushing.
 */
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { crossed, nextPrice, type Random } from './market';
import {
  DEMO_PORTFOLIOS,
  SYMBOLS,
  marshallItem,
  round2,
  stockTopic,
  userTopic,
  type Alert,
  type Portfolio,
  type Quote,
  type TableNames,
} from './model';

export interface SimulatorOptions {
  client: DynamoDBClient;
  tables: TableNames;
  /** Price writes per second across all symbols (default 8). */
  updatesPerSecond?: number;
  /** Log-return standard deviation per price step (default 0.002). */
  volatility?: number;
  /** Move from the reference price, in percent, that raises an alert (default 1.5). */
  alertThresholdPct?: number;
  /** Every this often each user trades and the portfolio item is rewritten (default 15 s). */
  tradeIntervalMs?: number;
  /** user id -> symbol -> quantity (default: alice, bob and carol). */
  portfolios?: Readonly<Record<string, Record<string, number>>>;
  /** How long an alert item lives (its TTL), seconds (default 3600). */
  alertTtlSeconds?: number;
  random?: Random;
  /** A failed write (the simulator goes on). */
  onError?: (error: Error) => void;
}

export interface SimulatorStats {
  priceWrites: number;
  trades: number;
  alerts: number;
  errors: number;
}

export class MarketSimulator {
  readonly stats: SimulatorStats = { priceWrites: 0, trades: 0, alerts: 0, errors: 0 };
  readonly #o: Required<Omit<SimulatorOptions, 'onError'>> & Pick<SimulatorOptions, 'onError'>;
  readonly #quotes = new Map<string, Quote>();
  readonly #portfolios = new Map<string, Portfolio>();
  /** `<user>\u0000<symbol>` -> the price the next alert is measured from. */
  readonly #references = new Map<string, number>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #timers: Array<ReturnType<typeof setInterval>> = [];
  #stopped = false;

  constructor(options: SimulatorOptions) {
    this.#o = {
      updatesPerSecond: 8,
      volatility: 0.002,
      alertThresholdPct: 1.5,
      tradeIntervalMs: 15_000,
      portfolios: DEMO_PORTFOLIOS,
      alertTtlSeconds: 3600,
      random: Math.random,
      ...options,
    };
    if (!(this.#o.updatesPerSecond > 0 && this.#o.updatesPerSecond <= 200)) throw new RangeError('updatesPerSecond must be in (0, 200]');
  }

  get users(): string[] {
    return Object.keys(this.#o.portfolios);
  }

  /** Writes every quote and portfolio once, then starts the ticks. */
  async start(): Promise<void> {
    const now = Date.now();
    for (const { symbol, name, price } of SYMBOLS) {
      this.#quotes.set(symbol, { symbol, name, price, open: price, change: 0, changePct: 0, ts: now, topic: stockTopic(symbol) });
    }
    for (const [owner, holdings] of Object.entries(this.#o.portfolios)) {
      const portfolio: Portfolio = {
        owner,
        sk: 'portfolio',
        kind: 'portfolio',
        cash: 10_000,
        holdings: Object.fromEntries(Object.entries(holdings).map(([symbol, quantity]) => [symbol, { quantity, cost: this.#quote(symbol).price }])),
        updatedAt: now,
        topic: userTopic(owner),
      };
      this.#portfolios.set(owner, portfolio);
      for (const symbol of Object.keys(holdings)) this.#references.set(`${owner}\u0000${symbol}`, this.#quote(symbol).price);
    }
    await Promise.all([...[...this.#quotes.values()].map((q) => this.#put(this.#o.tables.prices, q)), ...[...this.#portfolios.values()].map((p) => this.#put(this.#o.tables.portfolios, p))]);
    this.#timers.push(setInterval(() => this.tick(), 1000 / this.#o.updatesPerSecond));
    this.#timers.push(setInterval(() => this.trade(), this.#o.tradeIntervalMs));
  }

  /** One price step of a random symbol, and the alerts it raises. */
  tick(): void {
    if (this.#stopped) return;
    const symbols = [...this.#quotes.keys()];
    const quote = this.#quote(symbols[Math.floor(this.#o.random() * symbols.length)]!);
    const price = nextPrice(quote.price, quote.open, this.#o.random, { volatility: this.#o.volatility, reversion: 0.002 });
    const next: Quote = { ...quote, price, change: round2(price - quote.open), changePct: round2(((price - quote.open) / quote.open) * 100), ts: Date.now() };
    this.#quotes.set(quote.symbol, next);
    this.stats.priceWrites++;
    void this.#put(this.#o.tables.prices, next);
    for (const [owner, portfolio] of this.#portfolios) {
      if (!Object.hasOwn(portfolio.holdings, quote.symbol)) continue;
      const key = `${owner}\u0000${quote.symbol}`;
      const reference = this.#references.get(key) ?? quote.open;
      const move = crossed(reference, price, this.#o.alertThresholdPct);
      if (!move) continue;
      this.#references.set(key, price);
      const ts = Date.now();
      const alert: Alert = {
        owner,
        sk: `alert#${ts}#${quote.symbol}`,
        kind: 'alert',
        symbol: quote.symbol,
        direction: move.direction,
        price,
        reference,
        changePct: move.changePct,
        message: `${quote.symbol} ${move.direction === 'up' ? 'rose' : 'fell'} ${Math.abs(move.changePct).toFixed(2)}% to ${price.toFixed(2)}`,
        ts,
        expiresAt: Math.floor(ts / 1000) + this.#o.alertTtlSeconds,
        topic: userTopic(owner),
      };
      this.stats.alerts++;
      void this.#put(this.#o.tables.portfolios, alert);
    }
  }

  /** Each user buys or sells a few shares of one holding: the portfolio item is rewritten. */
  trade(): void {
    if (this.#stopped) return;
    for (const [owner, portfolio] of this.#portfolios) {
      const symbols = Object.keys(portfolio.holdings);
      const symbol = symbols[Math.floor(this.#o.random() * symbols.length)]!;
      const holding = portfolio.holdings[symbol]!;
      const price = this.#quote(symbol).price;
      let quantity = (1 + Math.floor(this.#o.random() * 5)) * (this.#o.random() < 0.5 ? -1 : 1);
      if (holding.quantity + quantity < 1) quantity = -quantity;
      if (quantity * price > portfolio.cash) quantity = -Math.min(quantity, holding.quantity - 1);
      if (quantity === 0) continue;
      const bought = Math.max(quantity, 0);
      const next: Portfolio = {
        ...portfolio,
        cash: round2(portfolio.cash - quantity * price),
        holdings: {
          ...portfolio.holdings,
          [symbol]: {
            quantity: holding.quantity + quantity,
            cost: bought > 0 ? round2((holding.cost * holding.quantity + price * bought) / (holding.quantity + bought)) : holding.cost,
          },
        },
        lastTrade: { symbol, quantity, price, ts: Date.now() },
        updatedAt: Date.now(),
      };
      this.#portfolios.set(owner, next);
      this.stats.trades++;
      void this.#put(this.#o.tables.portfolios, next);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await Promise.allSettled([...this.#inFlight]);
  }

  #quote(symbol: string): Quote {
    const quote = this.#quotes.get(symbol);
    if (!quote) throw new Error(`unknown symbol ${symbol}`);
    return quote;
  }

  #put(table: string, item: object): Promise<void> {
    const write = this.#o.client.send(new PutItemCommand({ TableName: table, Item: marshallItem(item) })).then(
      () => undefined,
      (error: unknown) => {
        this.stats.errors++;
        if (!this.#stopped) this.#o.onError?.(error as Error);
      },
    );
    this.#inFlight.add(write);
    void write.finally(() => this.#inFlight.delete(write));
    return write;
  }
}
