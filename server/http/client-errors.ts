import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { envelope } from '../errors.ts';

/** What Node's HTTP parser refused, as a status and a stable code of the error envelope. */
function classify(code: string | undefined): { status: number; code: string; message: string } {
  if (code === 'HPE_HEADER_OVERFLOW') {
    return {
      status: 431,
      code: 'HEADERS_TOO_LARGE',
      message: 'The request headers are larger than the relay accepts; send fewer or shorter headers.',
    };
  }
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, code: 'REQUEST_TIMEOUT', message: 'The request took too long to arrive.' };
  }
  return { status: 400, code: 'MALFORMED_REQUEST', message: 'The request is not valid HTTP.' };
}

/**
 * Fastify's clientErrorHandler: requests Node's HTTP parser refuses never reach a route or the
 * error handler, so without this their answer (431 for oversized headers) is Fastify's own body
 * instead of the error envelope every other refusal uses.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has no one left to answer (Node's own behaviour, and Fastify's default).
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code, message } = classify(error.code);
  const body = JSON.stringify(envelope(code, message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
