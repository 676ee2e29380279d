// Bearer tokens on the HTTP API, when the gateway has an auth file (LABRUN_AUTH_FILE, the broker's file): who is
// calling (the token's name, user and role) and whether that role may do what the request asks. The tokens and
// their hashes live in the auth file (@labrun/broker/auth-file); the gateway notices when the file changes, so a
// removed token is refused from the next request on and its open event streams are ended.
//   - no token, or one it does not know: 401 with `WWW-Authenticate: Bearer` (RFC 6750);
//   - a token whose role may not do this: 403, naming the role it needs;
//   - an address that sent too many unknown tokens (LoginLimiter): 429 with Retry-After, before its token is looked at.
// Event streams (EventSource cannot send headers) also take the token from the `labrun_token` cookie that
// `POST /session` sets; nothing else takes the cookie, and no endpoint takes a token in the URL.
import { stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { type Role, authTokens, findToken, loadAuthFile, type AuthToken } from '@labrun/auth';
import { LoginLimiter, type LoginLimits, type Logger } from '@labrun/service';
import { HttpError } from './http-error.js';

/** What a request needs: nothing (the dashboard's files), to watch (read, follow) or to control runs (create, act). */
export type Access = 'public' | 'watch' | 'control';

/** What each role may do over HTTP. A service account acts for others like an operator; an admin may do everything. */
export const ROLE_ACCESS: Readonly<Record<Role, readonly Access[]>> = {
  viewer: ['watch'],
  operator: ['watch', 'control'],
  service: ['watch', 'control'],
  admin: ['watch', 'control'],
};
const ROLES_WITH: Record<Exclude<Access, 'public'>, Role[]> = {
  watch: ['viewer', 'operator', 'service', 'admin'],
  control: ['operator', 'service', 'admin'],
};

export const SESSION_COOKIE = 'labrun_token';

/** Who is calling: a token of the auth file. */
export interface Caller {
  /** The token's name in the auth file. */
  token: string;
  /** Who acts with it: the `by` of its actions. */
  user: string;
  role: Role;
}

const REALM = 'realm="labrun"';
const HOW_TO_GET_ONE = 'an admin makes one with: labrun token add <name> --role viewer|operator';
/** RFC 6750's b64token, after "Bearer ". */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The value of cookie `name` in a Cookie header, if it is there. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const unauthorized = (code: string, message: string, challenge: string) => new HttpError(401, code, message, { 'www-authenticate': `Bearer ${challenge}` });

const tooManyAttempts = (retryAfterSeconds: number) =>
  new HttpError(
    429,
    'too-many-attempts',
    `too many requests with unknown bearer tokens from this address: try again in ${retryAfterSeconds} s (check the token: ${HOW_TO_GET_ONE})`,
    { 'retry-after': String(retryAfterSeconds) },
    { retryAfterSeconds },
  );

/** The token a request presents: from `Authorization: Bearer`, else (where allowed) the session cookie. */
function presentedToken(req: IncomingMessage, allowCookie: boolean): string {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = BEARER.exec(header);
    if (!match) {
      throw unauthorized('invalid-request', 'the Authorization header must be "Bearer <token>"', `${REALM}, error="invalid_request"`);
    }
    return match[1]!;
  }
  if (new URL(req.url ?? '/', 'http://gateway').searchParams.has('access_token')) {
    throw unauthorized(
      'invalid-request',
      'this gateway takes no token in the URL, where it would end up in logs and browser history: send it as Authorization: Bearer <token> ' +
        '(event streams also take the cookie that POST /session sets)',
      `${REALM}, error="invalid_request"`,
    );
  }
  const cookie = allowCookie ? cookieValue(req.headers.cookie, SESSION_COOKIE) : undefined;
  if (cookie !== undefined && cookie !== '') return cookie;
  throw unauthorized('unauthorized', `this gateway needs a bearer token: send Authorization: Bearer <token> (${HOW_TO_GET_ONE})`, REALM);
}

interface Held {
  caller: Caller;
  access: Access;
  onRevoked: () => void;
}

/** The tokens of the auth file, read again whenever the file changes, and the callers holding streams open. */
export class GatewayAuth {
  private tokens: AuthToken[] = [];
  /** Identifies the version of the file the tokens were read from: a new one means read it again. */
  private version = '';
  private checking: Promise<void> | undefined;
  /** The token each caller presented, to check it again when the file changes. Kept out of Caller so it is never logged. */
  private readonly presented = new WeakMap<Caller, string>();
  private readonly held = new Set<Held>();
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly file: string,
    private readonly log: Logger | undefined,
    private readonly checkEveryMs: number,
    private readonly logins: LoginLimiter,
  ) {}

  /** Read the auth file; an AuthFileError says what is wrong with it. */
  static async open(file: string, options: { log?: Logger; checkEveryMs?: number; loginLimits?: LoginLimits } = {}): Promise<GatewayAuth> {
    const auth = new GatewayAuth(file, options.log, options.checkEveryMs ?? 2000, new LoginLimiter(options.loginLimits));
    auth.version = await auth.fileVersion();
    auth.tokens = authTokens(await loadAuthFile(file));
    return auth;
  }

  get tokenCount(): number {
    return this.tokens.length;
  }

  /**
   * Who `req` comes from, if its token may have `access`; an HttpError (401 or 403) otherwise. `cookie`: whether
   * the session cookie counts (event streams only).
   */
  async authenticate(req: IncomingMessage, access: Exclude<Access, 'public'>, options: { cookie: boolean; what: string }): Promise<Caller> {
    const from = req.socket.remoteAddress;
    let presented: string;
    try {
      presented = presentedToken(req, options.cookie);
    } catch (error) {
      this.log?.warn('refused a request without a usable token', { request: options.what, from });
      throw error;
    }
    await this.refresh();
    let token: AuthToken | undefined;
    const login = await this.logins.attempt(from, () => (token = findToken(this.tokens, presented)) !== undefined);
    if (!login.checked) {
      this.log?.debug('refused a request from an address with too many unknown tokens', { request: options.what, from, retryAfterSeconds: login.retryAfterSeconds });
      throw tooManyAttempts(login.retryAfterSeconds);
    }
    if (!login.passed || !token) {
      this.log?.warn('refused a request with an unknown token', { request: options.what, from });
      if (login.passed === false && login.blocked) {
        const { retryAfterSeconds } = login;
        const { maxFailures, windowSeconds } = this.logins.limits;
        this.log?.warn(`too many unknown tokens: refusing every request with a token from ${from} for ${retryAfterSeconds} s, without checking tokens`, {
          from,
          failures: maxFailures,
          withinSeconds: windowSeconds,
        });
      }
      throw unauthorized('invalid-token', `the bearer token is not one this gateway knows: mistyped, or removed from the auth file (${HOW_TO_GET_ONE})`, `${REALM}, error="invalid_token"`);
    }
    if (!ROLE_ACCESS[token.role].includes(access)) {
      const roles = ROLES_WITH[access];
      this.log?.warn('refused a request the role may not make', { request: options.what, token: token.name, role: token.role, from });
      throw new HttpError(
        403,
        'forbidden',
        `token ${token.name} (role ${token.role}) may not ${options.what}: that needs the ${roles[0]} role (or ${roles.slice(1).join(' or ')})`,
        { 'www-authenticate': `Bearer ${REALM}, error="insufficient_scope"` },
        { role: token.role, requiredRole: roles[0] },
      );
    }
    const caller: Caller = { token: token.name, user: token.user, role: token.role };
    this.presented.set(caller, presented);
    return caller;
  }

  /**
   * Keep `caller`'s access under watch while something (an event stream) stays open: `onRevoked` is called once
   * the token is removed from the file or its role no longer allows `access`. Returns a function that stops watching.
   */
  hold(caller: Caller, access: Access, onRevoked: () => void): () => void {
    const held: Held = { caller, access, onRevoked };
    this.held.add(held);
    // Nothing else would look at the file while only streams are open.
    this.timer ??= setInterval(() => void this.refresh(), this.checkEveryMs).unref();
    return () => {
      this.held.delete(held);
      if (this.held.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Read the file again if it has changed since it was last read. A broken file is logged, and the tokens read before stay. */
  refresh(): Promise<void> {
    this.checking ??= this.reloadIfChanged().finally(() => (this.checking = undefined));
    return this.checking;
  }

  close(): void {
    this.held.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async fileVersion(): Promise<string> {
    try {
      const s = await stat(this.file, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (error) {
      return `unreadable:${(error as NodeJS.ErrnoException).code ?? ''}`;
    }
  }

  private async reloadIfChanged(): Promise<void> {
    const version = await this.fileVersion();
    if (version === this.version) return;
    try {
      this.tokens = authTokens(await loadAuthFile(this.file));
      this.version = version;
      this.log?.info('read the auth file again', { file: this.file, tokens: this.tokens.length });
    } catch (error) {
      // Logged once per change of the file, not on every request.
      this.version = version;
      this.log?.error('could not read the auth file again; the tokens read before stay in force', { error: (error as Error).message });
      return;
    }
    for (const held of [...this.held]) {
      const token = findToken(this.tokens, this.presented.get(held.caller) ?? '');
      if (token && ROLE_ACCESS[token.role].includes(held.access)) continue;
      this.held.delete(held);
      this.log?.info('ending a stream whose token was removed or changed', { token: held.caller.token });
      held.onRevoked();
    }
  }
}
