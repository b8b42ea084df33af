import net from 'node:net';

/**
 * A TCP pass-through to the relay that the test can cut, as a dropped Wi-Fi or a relay behind a
 * dead VPN would: while offline, every open connection (the live stream, idle keep-alive sockets)
 * is reset and new ones are reset as soon as they connect, so the browser sees a network error,
 * not an HTTP answer. The port stays the same, so the extension's relay URL never changes.
 */
export class TcpProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private online = true;
  /** Connections accepted (and forwarded) while online. */
  forwarded = 0;

  constructor(private readonly targetPort: number) {
    this.server = net.createServer((client) => this.accept(client));
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

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (!this.online) {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    this.forwarded += 1;
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    this.track(client);
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    // One side failing or closing takes the other with it, as a real network path would.
    const teardown = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown).on('close', teardown);
    upstream.on('error', teardown).on('close', teardown);
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}
