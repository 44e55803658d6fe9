import type { Gateway, GatewayOptions } from '@wskit/local';

/** How `npm start -- --example <name>` (or a test) starts an example. */
export interface ExampleOptions {
  /**
   * The gateway options `npm start` built from its flags; the example adds its own. With
   * `dynamodbEndpoint` the example uses that DynamoDB (it needs streams) instead of starting
   * DynamoDB Local.
   */
  gateway?: GatewayOptions;
  /** Progress lines (stderr in `npm start`). */
  log?: (line: string) => void;
}

export interface RunningExample {
  readonly gateway: Gateway;
  /** The page's URL. */
  readonly pageUrl: string;
  /** What `npm start` prints: where everything is. */
  readonly lines: string[];
  /** Stops the simulator, the gateway and DynamoDB Local (when the example started it). */
  stop(): Promise<void>;
}
