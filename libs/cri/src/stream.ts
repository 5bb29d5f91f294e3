// Streaming sessions on a CRI runtime's stream server: the URLs that Exec, Attach and
// PortForward answer, opened over WebSocket with the `v4.channel.k8s.io` subprotocol
// (containerd 1.6 refuses v5). Every binary frame starts with a channel byte:
//   exec/attach: 0 stdin, 1 stdout, 2 stderr, 3 status (a meta/v1 Status JSON), 4 resize;
//   port-forward: per requested port i, 2i data (read/write) and 2i+1 error, and the
//   first frame on each of them starts with the port as 2 bytes little-endian.
// v4 has no way to half-close stdin (v5 added that), so a command reading stdin must stop
// by itself (e.g. `head -n1`) or the client closes the whole session.
import WebSocket from 'ws';
import { CriError } from './errors';

export const STREAM_PROTOCOL = 'v4.channel.k8s.io';

const Channel = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4 } as const;

export interface StreamOptions {
  /** Deadline for the WebSocket handshake (10 s). */
  connectTimeoutMs?: number;
  /** Deadline for the whole session; past it the session is closed and fails with Timeout. */
  timeoutMs?: number;
}

export interface ExecResult {
  /** The exit code from the status channel; 0 for a `Success` status. */
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** meta/v1 Status as the stream server writes it on channel 3. */
interface ChannelStatus {
  status?: string;
  reason?: string;
  message?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** The exit code a channel Status carries, or a CriError for a failure that is not one. */
export function exitCodeFromStatus(status: ChannelStatus): number | CriError {
  if (status.status === 'Success') return 0;
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode') ?? status.details?.causes?.[0];
    const code = Number(cause?.message);
    if (Number.isInteger(code)) return code;
    return new CriError('Protocol', `NonZeroExitCode status without a numeric ExitCode cause: ${JSON.stringify(status)}`);
  }
  return new CriError('StreamFailed', status.message || JSON.stringify(status));
}

function toWsUrl(url: string): string {
  return url.replace(/^http(s?):\/\//, 'ws$1://');
}

/** An open socket and the frames that arrived before a session took it over. */
interface Connected {
  ws: WebSocket;
  early: Buffer[];
  stopBuffering: () => void;
  /** Runs `handler` when the socket closes, or at once if it closed before the session attached. */
  onClose: (handler: () => void) => void;
}

/**
 * Opens a WebSocket with the channel subprotocol, failing clearly on refusal or timeout.
 * Frames are buffered from the moment it opens: the server writes at once (the port
 * prefix of a port-forward, a fast command's output) and an event emitted before the
 * session attached its listener would be lost.
 */
function connect(url: string, what: string, opts: StreamOptions): Promise<Connected> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(toWsUrl(url), [STREAM_PROTOCOL], { handshakeTimeout: connectTimeoutMs });
    const fail = (err: CriError) => {
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      reject(err);
    };
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => fail(new CriError('StreamFailed', `HTTP ${res.statusCode}: ${body.trim() || res.statusMessage}`, what)));
    });
    ws.once('error', (err) => fail(new CriError('StreamFailed', err.message, what)));
    ws.once('open', () => {
      ws.removeAllListeners();
      if (ws.protocol !== STREAM_PROTOCOL) {
        fail(new CriError('Protocol', `server chose subprotocol "${ws.protocol}", want ${STREAM_PROTOCOL}`, what));
        return;
      }
      const early: Buffer[] = [];
      const buffer = (data: Buffer) => early.push(data);
      let closed = false;
      let closeHandler: (() => void) | undefined;
      ws.on('message', buffer);
      ws.on('error', () => undefined); // the close event that follows settles the session
      ws.on('close', () => {
        closed = true;
        closeHandler?.();
      });
      resolve({
        ws,
        early,
        stopBuffering: () => ws.off('message', buffer),
        onClose: (handler) => {
          closeHandler = handler;
          if (closed) queueMicrotask(handler);
        },
      });
    });
  });
}

/**
 * One exec or attach session. Output is collected and also offered as it arrives
 * (`onStdout`, `waitForOutput`); `done` settles when the server closes the session.
 */
export class ExecSession {
  private readonly out: Buffer[] = [];
  private readonly err: Buffer[] = [];
  private status: ChannelStatus | undefined;
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private closedByUs = false;
  readonly done: Promise<ExecResult>;

  private readonly ws: WebSocket;

  private constructor(
    conn: Connected,
    private readonly what: string,
    timeoutMs: number | undefined,
  ) {
    const ws = (this.ws = conn.ws);
    conn.stopBuffering();
    for (const frame of conn.early) this.onFrame(frame);
    this.done = new Promise<ExecResult>((resolve, reject) => {
      ws.on('message', (data: Buffer) => this.onFrame(data));
      conn.onClose(() => {
        if (this.timer) clearTimeout(this.timer);
        this.notify();
        const stdout = Buffer.concat(this.out);
        const stderr = Buffer.concat(this.err);
        if (this.timedOut) {
          reject(new CriError('Timeout', `session exceeded ${timeoutMs} ms`, what));
          return;
        }
        if (!this.status) {
          // Attach sessions the client ends, and sessions ended by close(), have no status.
          if (this.closedByUs) resolve({ exitCode: -1, stdout, stderr });
          else reject(new CriError('StreamFailed', 'the stream closed without an exit status', what));
          return;
        }
        const code = exitCodeFromStatus(this.status);
        if (code instanceof CriError) reject(new CriError(code.code, code.message, what));
        else resolve({ exitCode: code, stdout, stderr });
      });
    });
    // Callers that only use waitForOutput() must not see an unhandled rejection.
    this.done.catch(() => undefined);
    if (timeoutMs) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        ws.terminate();
      }, timeoutMs);
    }
  }

  private timedOut = false;

  /** Opens the URL Exec or Attach answered. */
  static async open(url: string, opts: StreamOptions & { what?: string } = {}): Promise<ExecSession> {
    const what = opts.what ?? 'exec';
    return new ExecSession(await connect(url, what, opts), what, opts.timeoutMs);
  }

  private onFrame(frame: Buffer): void {
    if (frame.length === 0) return;
    const payload = frame.subarray(1);
    switch (frame[0]) {
      case Channel.stdout:
        if (payload.length) this.out.push(Buffer.from(payload));
        break;
      case Channel.stderr:
        if (payload.length) this.err.push(Buffer.from(payload));
        break;
      case Channel.status:
        if (payload.length) {
          try {
            this.status = JSON.parse(payload.toString('utf8')) as ChannelStatus;
          } catch {
            this.status = { status: 'Failure', message: `unparsable status: ${payload.toString('utf8')}` };
          }
        }
        break;
      default:
        break; // servers send an empty frame per channel on open; ignore unknown channels
    }
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  get stdout(): string {
    return Buffer.concat(this.out).toString('utf8');
  }

  get stderr(): string {
    return Buffer.concat(this.err).toString('utf8');
  }

  get closed(): boolean {
    return this.ws.readyState === WebSocket.CLOSED || this.ws.readyState === WebSocket.CLOSING;
  }

  write(data: string | Buffer): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.ws.send(Buffer.concat([Buffer.from([Channel.stdin]), bytes]));
  }

  /** Tells the TTY its size (columns, rows). */
  resize(width: number, height: number): void {
    this.ws.send(Buffer.concat([Buffer.from([Channel.resize]), Buffer.from(JSON.stringify({ Width: width, Height: height }))]));
  }

  /** Resolves once stdout (or stderr) matches; fails at the deadline or if the session ends first. */
  waitForOutput(match: RegExp | string, timeoutMs: number, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
    const test = (text: string) => (typeof match === 'string' ? text.includes(match) : match.test(text));
    return new Promise((resolve, reject) => {
      const check = () => {
        const text = stream === 'stdout' ? this.stdout : this.stderr;
        if (test(text)) {
          finish();
          resolve(text);
        } else if (this.closed) {
          finish();
          reject(new CriError('StreamFailed', `session ended before ${stream} matched ${match}; got ${JSON.stringify(text)}`, this.what));
        }
      };
      const timer = setTimeout(() => {
        finish();
        const text = stream === 'stdout' ? this.stdout : this.stderr;
        reject(new CriError('Timeout', `${stream} did not match ${match} within ${timeoutMs} ms; got ${JSON.stringify(text)}`, this.what));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Ends the session from our side (how an attach ends). */
  close(): void {
    this.closedByUs = true;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }
}

/** Runs an Exec URL to completion: optional stdin up front, collected output and exit code. */
export async function runExec(url: string, opts: StreamOptions & { stdin?: string | Buffer } = {}): Promise<ExecResult> {
  const session = await ExecSession.open(url, opts);
  if (opts.stdin !== undefined) session.write(opts.stdin);
  return session.done;
}

/**
 * One forwarded connection to a port of a pod sandbox, over a PortForward URL (single
 * use: each connection needs its own PortForward call).
 */
export class PortForwardSession {
  private readonly chunks: Buffer[] = [];
  private readonly errors: Buffer[] = [];
  private readonly dataListeners = new Set<(chunk: Buffer) => void>();
  private seenPrefix = [false, false];
  private readonly listeners = new Set<() => void>();
  readonly done: Promise<void>;

  private readonly ws: WebSocket;

  private constructor(
    conn: Connected,
    readonly port: number,
  ) {
    this.ws = conn.ws;
    const ws = conn.ws;
    conn.stopBuffering();
    for (const frame of conn.early) this.onFrame(frame);
    this.done = new Promise((resolve, reject) => {
      ws.on('message', (data: Buffer) => this.onFrame(data));
      conn.onClose(() => {
        this.notify();
        const err = Buffer.concat(this.errors).toString('utf8').trim();
        if (err) reject(new CriError('StreamFailed', err, 'port-forward'));
        else resolve();
      });
    });
    this.done.catch(() => undefined);
  }

  static async open(url: string, port: number, opts: StreamOptions = {}): Promise<PortForwardSession> {
    // The port also goes in the query: the websocket path of the kubelet streaming code
    // reads it from there when the request does not carry it.
    const withPort = `${url}${url.includes('?') ? '&' : '?'}port=${port}`;
    return new PortForwardSession(await connect(withPort, 'port-forward', opts), port);
  }

  private onFrame(frame: Buffer): void {
    if (frame.length === 0) return;
    const channel = frame[0]!;
    if (channel > 1) return;
    let payload = frame.subarray(1);
    // The first frame on each channel starts with the port number (uint16 LE): strip it.
    if (!this.seenPrefix[channel]) {
      if (payload.length < 2) return; // an empty open frame; the prefix is still to come
      this.seenPrefix[channel] = true;
      payload = payload.subarray(2);
    }
    if (payload.length) {
      const chunk = Buffer.from(payload);
      if (channel === 1) this.errors.push(chunk);
      else if (this.dataListeners.size) for (const l of this.dataListeners) l(chunk);
      else this.chunks.push(chunk);
    }
    this.notify();
  }

  /**
   * Streams the forwarded connection's data to `listener`, starting with what already
   * arrived. From then on data is handed over, not kept (a long transfer must not pile
   * up in memory), so `data` and `waitForData` only see what came before.
   */
  onData(listener: (chunk: Buffer) => void): void {
    if (this.chunks.length) listener(Buffer.concat(this.chunks.splice(0)));
    this.dataListeners.add(listener);
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  get data(): Buffer {
    return Buffer.concat(this.chunks);
  }

  get error(): string {
    return Buffer.concat(this.errors).toString('utf8');
  }

  write(data: string | Buffer): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.ws.send(Buffer.concat([Buffer.from([0]), bytes]));
  }

  /** Resolves when the received data matches, or fails at the deadline / on close. */
  waitForData(match: RegExp | string, timeoutMs: number): Promise<string> {
    const test = (text: string) => (typeof match === 'string' ? text.includes(match) : match.test(text));
    return new Promise((resolve, reject) => {
      const check = () => {
        const text = this.data.toString('utf8');
        if (test(text)) {
          finish();
          resolve(text);
        } else if (this.ws.readyState >= WebSocket.CLOSING || this.error) {
          finish();
          reject(new CriError('StreamFailed', `forward ended before data matched ${match}: ${this.error || 'closed'}; got ${JSON.stringify(text)}`, 'port-forward'));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new CriError('Timeout', `no matching data within ${timeoutMs} ms; got ${JSON.stringify(this.data.toString('utf8'))} ${this.error}`, 'port-forward'));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    else this.ws.terminate();
  }
}
