import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';

/**
 * The CLI beside a running relay (issue #16, item 9). Embedded PGlite lets one process hold the
 * data directory, so a relay on PGlite also listens on a Unix socket inside that directory; a CLI
 * that finds the directory locked sends its argv there, the relay runs the same command in-process
 * against its own open database, and streams the output and exit code back.
 *
 * Trust: the socket file is 0600, so only the OS user who owns the relay can connect, and that user
 * could read the database files in the same directory anyway. Nothing more is checked.
 *
 * Wire: one JSON object per line each way.
 *   CLI → relay: {"argv": [...]} first, then {"stdin": base64} … {"stdinEnd": true} once asked.
 *   relay → CLI: {"out": text} | {"err": text} | {"stdinWanted": true} | {"exit": code}.
 * Stdin is sent only when the command reads it (e.g. `user create --password-stdin`), so a command
 * that reads nothing never waits on the terminal, and a password typed there still reaches it.
 */

/** Where a relay on embedded PGlite listens for CLI commands. */
export function cliSocketPath(dataDir: string): string {
  return path.join(dataDir, 'cli.sock');
}

/** The streams a command runs with, on either side of the socket. */
export interface CliStreams {
  out: (s: string) => void;
  err: (s: string) => void;
  input: AsyncIterable<string | Uint8Array>;
}

/** Runs one CLI command in the relay (server/cli/main.ts runCli with the relay's db and config). */
export type CliRunner = (argv: string[], streams: CliStreams) => Promise<number>;

/** A longer line than this is no CLI request: the connection is dropped. */
const MAX_LINE_CHARS = 1_000_000;

/** Splits a socket's text into JSON messages, one per line; a line that is no JSON object ends it. */
function onMessages(socket: net.Socket, handle: (message: Record<string, unknown>) => void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let newline = buffer.indexOf('\n'); newline !== -1; newline = buffer.indexOf('\n')) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        socket.destroy(new Error('a CLI socket message is not JSON'));
        return;
      }
      if (typeof message !== 'object' || message === null) {
        socket.destroy(new Error('a CLI socket message is not a JSON object'));
        return;
      }
      handle(message as Record<string, unknown>);
    }
    if (buffer.length > MAX_LINE_CHARS) socket.destroy(new Error('a CLI socket message is too long'));
  });
}

function send(socket: net.Socket, message: Record<string, unknown>): void {
  if (!socket.destroyed && socket.writable) socket.write(`${JSON.stringify(message)}\n`);
}

/** The CLI's stdin as the relay-side command reads it: asked for on first read, then streamed. */
class RemoteStdin implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private asked = false;
  private wake: (() => void) | null = null;

  constructor(private readonly ask: () => void) {}

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    if (!this.asked) {
      this.asked = true;
      this.ask();
    }
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk !== undefined) yield chunk;
      else if (this.ended) return;
      else await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/** One CLI connection: read the argv, run the command, stream its output, send its exit code. */
function serveConnection(
  socket: net.Socket,
  run: CliRunner,
  log: (m: string) => void,
  track: (start: () => Promise<void>) => void,
): void {
  const stdin = new RemoteStdin(() => send(socket, { stdinWanted: true }));
  let started = false;
  const finish = (code: number) => {
    send(socket, { exit: code });
    socket.end();
  };
  onMessages(socket, (message) => {
    if (started) {
      if (typeof message.stdin === 'string') stdin.push(Buffer.from(message.stdin, 'base64'));
      else if (message.stdinEnd === true) stdin.end();
      return;
    }
    started = true;
    const argv = message.argv;
    if (!Array.isArray(argv) || !argv.every((a): a is string => typeof a === 'string')) {
      send(socket, { err: 'Error: the relay expected {"argv": [strings]} first' });
      finish(2);
      return;
    }
    const streams = {
      out: (s: string) => send(socket, { out: s }),
      err: (s: string) => send(socket, { err: s }),
      input: stdin,
    };
    track(() =>
      run(argv, streams).then(finish, (error: unknown) => {
        log(`CLI command "${argv.join(' ')}" failed in the relay: ${String(error)}`);
        streams.err(`Error: ${String(error)}`);
        finish(1);
      }),
    );
  });
  socket.on('close', () => stdin.end());
  socket.on('error', (error) => log(`CLI socket connection: ${error.message}`));
}

/** Sets the process umask, returning the old one; null where it cannot be set (a worker thread). */
function setUmask(mask: number): number | null {
  try {
    return process.umask(mask);
  } catch {
    // best effort: worker threads may not set the umask; the chmod after listening still makes it 0600
    return null;
  }
}

/**
 * The relay's CLI socket; close() drops connections still open (their output is lost), lets the
 * commands already running finish, and removes the file.
 */
export interface CliSocket {
  path: string;
  close(): Promise<void>;
}

/**
 * Listens on <dataDir>/cli.sock (mode 0600). Call only while holding the data directory's lock:
 * then any socket file already there is a stale one from a relay that died, and is replaced.
 */
export async function listenForCli(
  dataDir: string,
  run: CliRunner,
  log: (m: string) => void,
): Promise<CliSocket> {
  const socketPath = cliSocketPath(dataDir);
  fs.rmSync(socketPath, { force: true });
  const connections = new Set<net.Socket>();
  const running = new Set<Promise<void>>();
  // Each running command is held here (close() awaits them) until it removes itself.
  const track = (start: () => Promise<void>) => {
    const command: Promise<void> = start().finally(() => running.delete(command));
    running.add(command);
  };
  const server = net.createServer((socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    serveConnection(socket, run, log, track);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The umask makes the socket 0600 from the moment it exists (chmod below only confirms it).
    const previous = setUmask(0o177);
    try {
      server.listen(socketPath, () => resolve());
    } finally {
      if (previous !== null) setUmask(previous);
    }
  });
  fs.chmodSync(socketPath, 0o600);
  return {
    path: socketPath,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of connections) socket.destroy();
      // Commands already running finish before the relay closes the database under them.
      await Promise.all(running);
      await closed;
      fs.rmSync(socketPath, { force: true });
    },
  };
}

/** What a forwarded command came to: its exit code, or why no relay could take it. */
export type Forwarded = { exit: number } | { unreachable: string };

/**
 * Sends argv to the relay listening in dataDir and prints what it streams back. Reads `input` only
 * when the relay asks for it, and stops reading once the command has finished.
 */
export function forwardToRelay(dataDir: string, argv: string[], streams: CliStreams): Promise<Forwarded> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(cliSocketPath(dataDir));
    let connected = false;
    let exit: number | null = null;
    let reading = false;
    const pumpStdin = async () => {
      reading = true;
      for await (const chunk of streams.input) {
        if (exit !== null || socket.destroyed) return;
        send(socket, { stdin: Buffer.from(chunk).toString('base64') });
      }
      send(socket, { stdinEnd: true });
    };
    socket.on('connect', () => {
      connected = true;
      send(socket, { argv });
    });
    onMessages(socket, (message) => {
      if (typeof message.out === 'string') streams.out(message.out);
      else if (typeof message.err === 'string') streams.err(message.err);
      else if (typeof message.exit === 'number') exit = message.exit;
      else if (message.stdinWanted === true && !reading)
        pumpStdin().catch((error: unknown) => socket.destroy(error as Error));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (!connected) resolve({ unreachable: `${error.code ?? 'error'} on ${cliSocketPath(dataDir)}` });
      else if (exit === null) reject(error);
    });
    socket.on('close', () => {
      // A terminal left open for a command that no longer reads it would keep the CLI alive.
      if (reading && streams.input instanceof Readable) streams.input.destroy();
      if (exit !== null) resolve({ exit });
      else if (connected) reject(new Error('the relay stopped before the command finished'));
    });
  });
}
