export interface GatewayLimits {
  /** Whole message (all frames of it); AWS: 128 KB. Bigger closes the connection with 1009. */
  maxMessageBytes: number;
  /** One frame; AWS: 32 KB. Bigger closes the connection with 1009. */
  maxFrameBytes: number;
  /** No data frame either way for this long closes with 1001 `Going away`; AWS: 10 min. */
  idleTimeoutMs: number;
  /** Any connection is closed with 1001 `Going away` after this long; AWS: 2 h. */
  maxConnectionMs: number;
}

export const AWS_LIMITS: GatewayLimits = {
  maxMessageBytes: 128 * 1024,
  maxFrameBytes: 32 * 1024,
  idleTimeoutMs: 10 * 60 * 1000,
  maxConnectionMs: 2 * 60 * 60 * 1000,
};

export const REGION = 'us-east-1';
export const ACCOUNT_ID = '000000000000';
/** API ids are 10 lowercase alphanumerics; this one says where it runs. */
export const API_ID = 'wskitlocal';
/** The HTTP API's id (its own API on AWS; here on the same port). */
export const HTTP_API_ID = 'wskithttp0';

/** The credentials the functions get, and the ones @connections accepts, unless configured. */
export const DEFAULT_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** API Gateway's account-level throttle, shared by every API of an account and its callbacks. */
export const DEFAULT_MANAGEMENT_RATE = 10_000;
export const DEFAULT_MANAGEMENT_BURST = 5_000;

/** Invocations that may wait per function for a free execution environment. */
export const DEFAULT_FUNCTION_QUEUE_LIMIT = 1000;
