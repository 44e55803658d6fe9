/**
 * A loopback proxy in front of a DynamoDB API that meters what goes through it: it asks for
 * the consumed capacity on every data-plane request (ReturnConsumedCapacity TOTAL) and
 * records, per request, the operation, the partition key it read or wrote (`pk`), and the
 * capacity units. Point functions at it (AWS_ENDPOINT_URL_DYNAMODB, or the local gateway's
 * `dynamodbEndpoint`) to see what one publish reads, without touching their code.
 *
 * The body changes, so the request's signature no longer covers it: fine for dynalite and
 * DynamoDB Local, which do not check signatures; never point it at AWS.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const METERED = new Set(['GetItem', 'Query', 'Scan', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchGetItem', 'BatchWriteItem', 'TransactGetItems', 'TransactWriteItems']);
const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

export interface MeteredRequest {
  operation: string;
  read: boolean;
  /** The partition key it names (GetItem/… Key.pk, Query :pk), when there is one. */
  pk?: string;
  capacityUnits: number;
}

export interface MeteringProxy {
  url: string;
  requests: MeteredRequest[];
  /** Read units of the requests whose pk passes `filter`, from index `since` on. */
  readUnits(filter: (pk: string | undefined) => boolean, since?: number): number;
  stop(): Promise<void>;
}

function partitionKey(input: Record<string, unknown>): string | undefined {
  const key = input.Key as { pk?: { S?: string } } | undefined;
  if (key?.pk?.S) return key.pk.S;
  const values = input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined;
  return values?.[':pk']?.S;
}

export async function startMeteringProxy(target: string): Promise<MeteringProxy> {
  const upstream = new URL(target);
  const requests: MeteredRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      let input: Record<string, unknown> | undefined;
      if (METERED.has(operation)) {
        try {
          input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
          input.ReturnConsumedCapacity = 'TOTAL';
          body = Buffer.from(JSON.stringify(input));
        } catch {
          input = undefined;
        }
      }
      const headers = { ...req.headers, 'content-length': String(body.byteLength) };
      const forward = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers }, (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          const text = Buffer.concat(parts);
          if (input) {
            let units = 0;
            try {
              const consumed = (JSON.parse(text.toString('utf8')) as { ConsumedCapacity?: unknown }).ConsumedCapacity;
              for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) units += Number((c as { CapacityUnits?: number }).CapacityUnits ?? 0);
            } catch {
              // an error answer: nothing consumed
            }
            requests.push({ operation, read: READS.has(operation), pk: partitionKey(input), capacityUnits: units });
          }
          res.writeHead(answer.statusCode ?? 500, { ...answer.headers, 'content-length': String(text.byteLength) });
          res.end(text);
        });
      });
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    readUnits: (filter, since = 0) => requests.slice(since).reduce((sum, r) => sum + (r.read && filter(r.pk) ? r.capacityUnits : 0), 0),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
