import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { MmaerecError } from '../../errors.js';

/**
 * Access to the live station page. Bound to a loopback address it needs nothing (only this machine reaches
 * it); bound elsewhere, a bearer token is required (the config refuses such a host without page.tokenEnv). A
 * browser cannot put a header on an <img> or an EventSource, so the page is opened once as /?token=…, which
 * sets an HttpOnly, SameSite=Strict cookie holding the token; scripts and tools send
 * `Authorization: Bearer …` instead.
 */
export const COOKIE = 'mmaerec_page';

/** True for 127.0.0.0/8, ::1 and localhost: addresses other machines cannot reach. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/** Compares in constant time (a timing side channel must not reveal the token a byte at a time). */
function same(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === COOKIE) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

/** Whether the request carries the token (bearer header or the page's cookie). */
export function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const header = req.headers.authorization ?? '';
  if (header.startsWith('Bearer ') && same(header.slice(7).trim(), token)) return true;
  const cookie = cookieToken(req);
  return cookie !== undefined && same(cookie, token);
}

/** The token of a `?token=` query when it is the right one (the page then sets the cookie). */
export function queryTokenMatches(query: URLSearchParams, token: string | undefined): boolean {
  const given = query.get('token');
  return token !== undefined && given !== null && same(given, token);
}

export function tokenCookie(token: string): string {
  return `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}

/** The token `page.tokenEnv` names (undefined without tokenEnv); E_CONFIG when that variable is unset or short. */
export function pageToken(page: { tokenEnv?: string }, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (page.tokenEnv === undefined) return undefined;
  const token = env[page.tokenEnv];
  if (token === undefined || token === '') {
    throw new MmaerecError('E_CONFIG', `page.tokenEnv names ${page.tokenEnv}, which is not set in the environment: export a random token there (e.g. openssl rand -hex 16) or remove tokenEnv`);
  }
  if (token.length < 16) throw new MmaerecError('E_CONFIG', `page.tokenEnv ${page.tokenEnv} holds ${token.length} characters: give a token of at least 16 (e.g. openssl rand -hex 16)`);
  return token;
}
