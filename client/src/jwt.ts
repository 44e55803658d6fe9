/**
 * Reads the `exp` and `iat` claims of a JWT without verifying it. The client only uses them
 * to schedule a refresh; the server verifies the token. Returns undefined for anything that
 * is not a JWT with a numeric `exp` (an opaque token is fine: it is simply not scheduled).
 */
export function readTokenTimes(token: string): { expMs: number; iatMs?: number } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload: unknown = JSON.parse(decodeBase64Url(parts[1]));
    if (typeof payload !== 'object' || payload === null) return undefined;
    const { exp, iat } = payload as { exp?: unknown; iat?: unknown };
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return undefined;
    return typeof iat === 'number' && Number.isFinite(iat)
      ? { expMs: exp * 1000, iatMs: iat * 1000 }
      : { expMs: exp * 1000 };
  } catch {
    return undefined;
  }
}

function decodeBase64Url(segment: string): string {
  const base64 = segment.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}
