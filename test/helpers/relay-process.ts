import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Debian's libfaketime (`apt-get install faketime`; .ci/run installs it). */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/**
 * Seconds from now to the next 17:00 UTC (noon in Washington DC), by which a relay process can
 * run ahead so that its quiet hours do not depend on the hour the test runs at; 0 when this
 * machine has no libfaketime (the process then keeps the real time).
 */
export function daytimeAheadSeconds(now = Date.now()): number {
  if (!fs.existsSync(LIBFAKETIME)) return 0;
  const next = new Date(now);
  next.setUTCHours(17, 0, 0, 0);
  if (next.getTime() < now) next.setUTCDate(next.getUTCDate() + 1);
  return Math.round((next.getTime() - now) / 1000);
}

/** A real relay process (server/main.ts), started and killed like an operator or a crash would. */
export class RelayProcess {
  private child: ChildProcess | null = null;
  output = '';

  constructor(
    readonly port: number,
    private readonly env: Record<string, string>,
    /**
     * Run the process's clock this many seconds ahead (libfaketime preloaded into node itself,
     * not the faketime wrapper, which would stand between a SIGKILL and the relay).
     */
    private readonly clockAheadSeconds = 0,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    // Node itself with tsx as a loader, not the tsx CLI: the CLI runs the program in a child
    // process, so a SIGKILL to it would orphan the relay instead of killing it.
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: root,
      env: {
        ...process.env,
        ...this.env,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        ...(this.clockAheadSeconds > 0
          ? { LD_PRELOAD: LIBFAKETIME, FAKETIME: `+${this.clockAheadSeconds}s` }
          : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`relay exited with ${child.exitCode}:\n${this.output}`);
      try {
        const response = await fetch(`${this.url}/healthz`);
        if (response.ok) return;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`relay did not become healthy:\n${this.output}`);
  }

  /** SIGKILL: no shutdown hooks, in-flight work abandoned mid-way. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
