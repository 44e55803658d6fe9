/**
 * StockPicker's data: two application tables whose items name their own topic, so one
 * broadcaster (wskit's default mapping reads the `topic` attribute) serves both streams.
 *
 *   prices      symbol (hash)                    one item per symbol, rewritten on every tick
 *               topic = stock:<SYMBOL>           public: the example declares the prefix stock:
 *   portfolios  owner (hash), sk (range)
 *               sk = portfolio                   the user's holdings and cash
 *               sk = alert#<ts>#<SYMBOL>         a threshold alert (TTL expiresAt)
 *               topic = user:<owner>             only that signed-in user may subscribe
 *
 * The pushed message's `data` is the broadcaster's `{ event, item }` with the item as JSON.
 */
import type { AttributeValue, CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const STOCK_TOPIC_PREFIX = 'stock:';
export const stockTopic = (symbol: string) => `${STOCK_TOPIC_PREFIX}${symbol}`;
export const userTopic = (sub: string) => `user:${sub}`;

export interface Quote {
  symbol: string;
  name: string;
  price: number;
  /** The session's first price: change is measured from it. */
  open: number;
  change: number;
  changePct: number;
  /** When the price was set, epoch ms. */
  ts: number;
  topic: string;
}

export interface Holding {
  quantity: number;
  /** Average price paid. */
  cost: number;
}

export interface Portfolio {
  owner: string;
  sk: 'portfolio';
  kind: 'portfolio';
  cash: number;
  holdings: Record<string, Holding>;
  /** The last trade, shown on the page. */
  lastTrade?: { symbol: string; quantity: number; price: number; ts: number };
  updatedAt: number;
  topic: string;
}

export interface Alert {
  owner: string;
  sk: string;
  kind: 'alert';
  symbol: string;
  direction: 'up' | 'down';
  price: number;
  /** The price the move is measured from (the previous alert's, or the open). */
  reference: number;
  changePct: number;
  message: string;
  ts: number;
  expiresAt: number;
  topic: string;
}

/** What the broadcaster pushes for a stream record (its default mapping, no data attribute). */
export interface StreamPush<T> {
  event: 'INSERT' | 'MODIFY' | 'REMOVE';
  item: T;
}

export const SYMBOLS: ReadonlyArray<{ symbol: string; name: string; price: number }> = [
  { symbol: 'AAPL', name: 'Apple', price: 228.4 },
  { symbol: 'MSFT', name: 'Microsoft', price: 431.2 },
  { symbol: 'NVDA', name: 'NVIDIA', price: 138.9 },
  { symbol: 'AMZN', name: 'Amazon', price: 197.3 },
  { symbol: 'GOOGL', name: 'Alphabet', price: 176.5 },
  { symbol: 'META', name: 'Meta', price: 583.1 },
  { symbol: 'TSLA', name: 'Tesla', price: 251.6 },
  { symbol: 'JPM', name: 'JPMorgan', price: 224.8 },
  { symbol: 'V', name: 'Visa', price: 289.7 },
  { symbol: 'KO', name: 'Coca-Cola', price: 64.2 },
  { symbol: 'XOM', name: 'ExxonMobil', price: 118.3 },
  { symbol: 'NFLX', name: 'Netflix', price: 756.0 },
];

/** The demo users and what they hold (symbol -> quantity). */
export const DEMO_PORTFOLIOS: Readonly<Record<string, Record<string, number>>> = {
  alice: { AAPL: 40, NVDA: 120, MSFT: 15, KO: 200, NFLX: 6 },
  bob: { TSLA: 30, AMZN: 45, META: 12, JPM: 40, XOM: 60 },
  carol: { GOOGL: 50, V: 25, AAPL: 20, NVDA: 60, KO: 90 },
};

export interface TableNames {
  prices: string;
  portfolios: string;
}

export const tableNames = (prefix: string): TableNames => ({ prices: `${prefix}prices`, portfolios: `${prefix}portfolios` });

/** The tables as the Terraform root declares them (keys, stream with new images, TTL on alerts). */
export function tableDefinitions(names: TableNames): CreateTableCommandInput[] {
  const stream = { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' as const };
  return [
    {
      TableName: names.prices,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'symbol', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'symbol', KeyType: 'HASH' }],
      StreamSpecification: stream,
    },
    {
      TableName: names.portfolios,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'owner', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'owner', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      StreamSpecification: stream,
    },
  ];
}

export const ALERT_TTL_ATTRIBUTE = 'expiresAt';

/** Plain JSON (strings, finite numbers, objects) to DynamoDB AttributeValues. */
export function marshall(value: unknown): AttributeValue {
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot store ${value}`);
    return { N: String(value) };
  }
  if (typeof value === 'boolean') return { BOOL: value };
  if (value === null) return { NULL: true };
  if (typeof value === 'object') {
    return { M: Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).map(([k, v]) => [k, marshall(v)])) };
  }
  throw new Error(`cannot store a ${typeof value}`);
}

export function marshallItem(item: object): Record<string, AttributeValue> {
  return (marshall(item) as { M: Record<string, AttributeValue> }).M;
}

export const round2 = (n: number) => Math.round(n * 100) / 100;
