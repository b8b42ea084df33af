import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import { ApiError } from '../errors.ts';

/**
 * The sandbox tools (/sandbox/*: the mailbox with every reset link, the phone simulator that can
 * text STOP as any customer, the demo CRM) are for the person at this machine only (issue #13,
 * finding 6). They answer a request only when it arrives on a loopback socket and names a loopback
 * host, and a state-changing one only when it comes from the relay's own pages, as JSON.
 */

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A sandbox tool: loopback callers only, same-origin JSON writes only (sandbox-guard.ts). */
    sandboxTool?: true;
  }
}

/** Host names a sandbox tool answers to, with any port: the loopback names a browser uses. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Whether a socket's remote address is loopback. The socket's own address, never a forwarded
 * header: anyone can write X-Forwarded-For, nobody off this machine can connect from 127.0.0.1.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** The host name of a Host header without its port, lower-cased; null when it is not one. */
export function hostName(header: string | undefined): string | null {
  if (header === undefined) return null;
  const value = header.trim().toLowerCase();
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/.exec(value);
  return match === null ? null : (match[1] as string);
}

/**
 * The host names the whole relay answers to in sandbox mode: the loopback names plus PUBLIC_URL's.
 * A web page whose own name is made to resolve to 127.0.0.1 (DNS rebinding) reaches the relay with
 * its own name in Host, and is refused here before any route runs.
 */
export function relayHostNames(config: Pick<Config, 'publicUrl'>): ReadonlySet<string> {
  return new Set([...LOOPBACK_HOSTS, new URL(config.publicUrl).hostname.toLowerCase()]);
}

function hostNotAllowed(name: string | null, remedy: string): ApiError {
  return new ApiError(
    421,
    'HOST_NOT_ALLOWED',
    `This relay does not answer to the host "${name ?? ''}". ${remedy}`,
    {
      host: name,
    },
  );
}

/** Sandbox mode, every request: the Host header names this relay (DNS rebinding defence). */
export function relayHostHook(config: Pick<Config, 'publicUrl'>) {
  const allowed = relayHostNames(config);
  return async function checkRelayHost(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const name = hostName(request.headers.host);
    if (name === null || !allowed.has(name)) {
      throw hostNotAllowed(name, 'Use http://127.0.0.1:<port>, or set PUBLIC_URL to the address you use.');
    }
  };
}

/** Why a state-changing request looks cross-site, or null when it comes from the relay's own pages. */
export function crossSiteProblem(
  headers: FastifyRequest['headers'],
  ownOrigins: readonly string[],
): string | null {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
    return `the browser reports this request as ${site}`;
  }
  const origin = headers.origin;
  if (typeof origin === 'string' && !ownOrigins.includes(origin.toLowerCase())) {
    return `it comes from ${origin}`;
  }
  // Neither header: not a browser acting for a web page (curl, a test), which is not the attack.
  return null;
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Every request to a route declaring `sandboxTool`: loopback only, and writes same-origin JSON only. */
export function sandboxToolHook() {
  return async function checkSandboxTool(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    if (request.routeOptions.config.sandboxTool !== true) return;
    if (!isLoopbackAddress(request.socket.remoteAddress)) {
      throw new ApiError(
        403,
        'SANDBOX_LOOPBACK_ONLY',
        'The sandbox tools answer only on this machine: open them at http://127.0.0.1:<port>.',
      );
    }
    const name = hostName(request.headers.host);
    // Not PUBLIC_URL's name: a tunnel or proxy on this machine connects from loopback too, and
    // would otherwise carry the world to the sandbox tools.
    if (name === null || !LOOPBACK_HOSTS.includes(name)) {
      throw hostNotAllowed(
        name,
        'The sandbox tools answer only at http://127.0.0.1:<port> or http://localhost:<port>.',
      );
    }
    if (request.method === 'GET' || request.method === 'HEAD') return;
    // The page's own origin is the one this request names: loopback, checked just above.
    const own = `${request.protocol}://${String(request.headers.host).trim().toLowerCase()}`;
    const problem = crossSiteProblem(request.headers, [own]);
    if (problem !== null) {
      throw new ApiError(
        403,
        'CROSS_SITE_REQUEST',
        `Refused: ${problem}. The sandbox tools accept changes only from their own pages.`,
      );
    }
    if (mediaType(request.headers['content-type']) !== 'application/json') {
      throw new ApiError(
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'The sandbox tools take JSON bodies only (Content-Type: application/json).',
      );
    }
  };
}
