/** Page parts both examples use: dev sign-in, the connection badge, the recovery banner, a sparkline. */
export { SignIn, devTokenProvider, loadSession, saveSession, clearSession, pageWebSocketUrl, type Session } from './session';
export { ConnectionBadge } from './connection-badge';
export { RecoveryBanner, useOutages, type Outage } from './recovery';
export { Sparkline } from './sparkline';
export { formatTime, formatDuration } from './format';
