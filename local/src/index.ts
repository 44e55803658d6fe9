export { startGateway, AWS_LIMITS, DEFAULT_ROUTES } from './gateway';
export { startStreamPoller, lambdaStreamRecord, type StreamSource, type StreamPoller } from './stream-poller';
export type { Gateway, GatewayOptions, GatewayLimits, ConnectionInfo, FunctionName } from './gateway';
export { DevIdentityProvider, DEV_ISSUER, DEV_AUDIENCE } from './dev-idp';
export type { MintOptions, Jwk } from './dev-idp';
export { defaultDistDir, defaultStateDir, repoRoot } from './paths';
