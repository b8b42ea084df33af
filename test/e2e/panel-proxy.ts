import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type net from 'node:net';

/** One request the extension made to the relay, and the answer, as they crossed the proxy. */
export interface Exchange {
  method: string;
  /** Path and query, as the browser asked. */
  path: string;
  requestBody: string;
  status: number;
  contentType: string;
  /** The answer's body when it is JSON (streams and pages are not kept). */
  responseBody: string;
}

/**
 * An HTTP pass-through to the relay that records what crosses it and that the test can cut, as a
 * dropped Wi-Fi or a relay behind a dead VPN would: while offline, every open connection (the live
 * stream, idle keep-alive sockets) is reset and new ones are reset as soon as they connect, so the
 * browser sees a network error, not an HTTP answer. The port stays the same, so the extension's
 * relay URL never changes. Recording here, not in the browser, sees the panel's and the
 * background's requests alike, in any browser.
 */
export class RelayProxy {
  private readonly server: Server;
  private readonly sockets = new Set<net.Socket>();
  private online = true;
  /** Everything the extension asked the relay since the last `clear()`. */
  readonly exchanges: Exchange[] = [];

  constructor(private readonly targetPort: number) {
    this.server = createServer((req, res) => this.forward(req, res));
    this.server.on('connection', (socket) => {
      if (!this.online) {
        socket.on('error', () => undefined);
        socket.resetAndDestroy();
        return;
      }
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve((this.server.address() as net.AddressInfo).port));
    });
  }

  get isOnline(): boolean {
    return this.online;
  }

  /** Offline resets every connection now and each new one; online forwards again. */
  setOnline(online: boolean): void {
    this.online = online;
    if (!online) for (const socket of this.sockets) socket.resetAndDestroy();
  }

  /** Forgets what was recorded so far. */
  clear(): void {
    this.exchanges.length = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    const requestChunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => requestChunks.push(chunk));
    const upstream = request(
      {
        host: '127.0.0.1',
        port: this.targetPort,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const contentType = String(answer.headers['content-type'] ?? '');
        const json = contentType.includes('application/json');
        const responseChunks: Buffer[] = [];
        if (json) answer.on('data', (chunk: Buffer) => responseChunks.push(chunk));
        answer.on('end', () =>
          this.exchanges.push({
            method: req.method ?? '',
            path: req.url ?? '',
            requestBody: Buffer.concat(requestChunks).toString('utf8'),
            status: answer.statusCode ?? 0,
            contentType,
            responseBody: Buffer.concat(responseChunks).toString('utf8'),
          }),
        );
        answer.pipe(res);
      },
    );
    // One side failing or closing takes the other with it, as a real network path would.
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  }
}
