import pg from 'pg';

/** Where the LISTEN connection lives and whom it tells about trouble. */
export interface PostgresListenerOptions {
  url: string;
  /** Called when the connection drops and is re-established, so readers can catch up. */
  onReconnect?: () => void;
  log?: (message: string) => void;
}

/**
 * The one dedicated LISTEN connection of a PostgreSQL database. It connects on the first
 * subscription; when it drops it reconnects a second later and subscribes every channel again,
 * since NOTIFY does not queue for a connection that is gone.
 */
export class PostgresListener {
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();
  private client: pg.Client | null = null;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: PostgresListenerOptions) {}

  /** Subscribes to NOTIFY on a channel; resolves to an unsubscribe function. */
  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(channel, set);
      if (this.client === null && this.reconnectTimer === null) await this.connect();
      else await this.client?.query(`LISTEN ${quoteIdent(channel)}`);
    }
    const subscribers = set;
    subscribers.add(onNotify);
    return async () => {
      subscribers.delete(onNotify);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    // best effort: shutting down; a listener that fails to end is gone either way
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: 'crm-texting-listen',
    });
    client.on('notification', (msg) => {
      for (const handler of this.handlers.get(msg.channel) ?? []) handler(msg.payload ?? '');
    });
    client.on('error', (error) => {
      this.options.log?.(`postgres listen connection lost: ${error.message}`);
      this.scheduleReconnect();
    });
    client.on('end', () => {
      if (!this.closed) this.scheduleReconnect();
    });
    await client.connect();
    for (const channel of this.handlers.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
    this.client = client;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer !== null) return;
    const old = this.client;
    this.client = null;
    // best effort: the old listener is being replaced; a failure to end it changes nothing
    old?.end().catch(() => undefined);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().then(
        () => this.options.onReconnect?.(),
        (error: unknown) => {
          this.options.log?.(`postgres listen reconnect failed: ${String(error)}`);
          this.scheduleReconnect();
        },
      );
    }, 1000);
  }
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`invalid channel name ${name}`);
  return `"${name}"`;
}
