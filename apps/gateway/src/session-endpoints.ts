// `POST /session` and `DELETE /session`, for the dashboard. A browser's EventSource cannot send an Authorization
// header, so the dashboard posts its token here once (in the header) and the answer sets it as an HttpOnly,
// SameSite=Strict cookie that only the event streams accept. The answer also says who the token is, so the page
// can show it; without an auth file it says that no token is needed.
import type { Answer, ApiContext, ApiRequest } from './http-api.js';
import { SESSION_COOKIE } from './http-auth.js';

/** `Secure` when the page came over HTTPS (directly, or through a proxy that says so): the cookie then never travels in clear. */
function secure(req: ApiRequest['req']): string {
  const overTls = 'encrypted' in req.socket && req.socket.encrypted === true;
  return overTls || req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
}

export function startSession(ctx: ApiContext, { req, caller }: ApiRequest): Answer {
  if (!ctx.auth || !caller) return { status: 200, body: { data: { authentication: false } } };
  // The token was checked by the router (any role may start a session); it came in the Authorization header.
  const token = /^Bearer +(\S+)/i.exec(req.headers.authorization ?? '')![1]!;
  return {
    status: 200,
    body: { data: { authentication: true, token: caller.token, user: caller.user, role: caller.role } },
    headers: { 'set-cookie': `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${secure(req)}` },
  };
}

export function endSession(_ctx: ApiContext, { req }: ApiRequest): Answer {
  return { status: 200, body: { data: null }, headers: { 'set-cookie': `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure(req)}` } };
}
