/**
 * Signing in on the local stack: the gateway's dev identity provider mints a token for any
 * user id (`POST /dev/token`, same origin only). A real app gets its token from its IdP; the
 * client only needs a function that returns one, called again before the token expires.
 */
import { useState, type FormEvent } from 'react';

export interface Session {
  sub: string;
  signedInAt: number;
}

const KEY = 'wskit-example-session';

export function loadSession(): Session | undefined {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    return value && typeof value.sub === 'string' ? { sub: value.sub, signedInAt: Date.now() } : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}

/** The gateway's WebSocket endpoint: the page is served by the gateway itself. */
export function pageWebSocketUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
}

/** A token provider for the client: a fresh dev token (one hour) each time it is asked. */
export function devTokenProvider(sub: string, scope?: string): () => Promise<string> {
  return async () => {
    const response = await fetch('/dev/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(scope ? { sub, scope, ttlSeconds: 3600 } : { sub, ttlSeconds: 3600 }),
    });
    const body = (await response.json().catch(() => ({}))) as { token?: string; message?: string };
    if (!response.ok || typeof body.token !== 'string') throw new Error(body.message ?? `POST /dev/token answered ${response.status}`);
    return body.token;
  };
}

export function SignIn({ title, users, hint, onSignIn }: { title: string; users: string[]; hint: string; onSignIn: (session: Session) => void }) {
  const [sub, setSub] = useState(users[0] ?? '');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const signIn = async (user: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await devTokenProvider(user)(); // the gateway accepts this user id
      onSignIn({ sub: user, signedInAt: Date.now() });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void signIn(sub.trim());
  };
  return (
    <main className="signin">
      <h1>{title}</h1>
      <p className="muted">{hint}</p>
      <form onSubmit={submit}>
        <label>
          User id <input name="sub" value={sub} onChange={(e) => setSub(e.target.value)} autoFocus spellCheck={false} />
        </label>
        <button type="submit" disabled={busy || sub.trim() === ''}>
          Sign in
        </button>
      </form>
      <p className="quick">
        {users.map((user) => (
          <button key={user} type="button" className="link" onClick={() => void signIn(user)} disabled={busy}>
            {user}
          </button>
        ))}
      </p>
      {error && <p className="error">{error}</p>}
      <p className="muted small">Dev tokens come from the local gateway's identity provider (POST /dev/token).</p>
    </main>
  );
}
