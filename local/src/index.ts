export { startGateway, AWS_LIMITS } from './gateway';
export { startStreamPoller, lambdaStreamRecord, type StreamSource, type StreamPoller } from './stream-poller';
export type { Gateway, GatewayOptions, GatewayLimits, ConnectionInfo, ConnectionState, FunctionName } from './gateway';
export { DevIdentityProvider, DEV_ISSUER, DEV_AUDIENCE } from './dev-idp';
export type { MintOptions, Jwk } from './dev-idp';
export { readWiring, routesFromWiring, parseActionAliases, type WiringManifest, type ActionAliases } from './wiring';
export { escapeLogText, sanitizeLogEntry } from './log-escape';
export { defaultDistDir, defaultStateDir, defaultWiringDir, repoRoot } from './paths';
export { formatClientReport, parseClientReportLine, qualityShares, type ClientReportEntry } from './client-reports';
