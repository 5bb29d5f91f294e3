// The client half of SPDY/3.1 that Kubernetes' stream protocol needs, towards a CRI stream
// server (containerd 1.6): the upgrade request, client-opened streams named by header,
// data frames with FIN as half-close, and the control frames a peer may send (PING is
// answered; SETTINGS, WINDOW_UPDATE, HEADERS ignored; RST_STREAM and GOAWAY end streams).
// Header blocks go out as one zlib stream flushed per block, without the SPDY dictionary:
// the peer's reader is seeded with it but a stream that never refers to it decodes the
// same. Incoming header blocks (the server's SYN_REPLY) are skipped, never decoded, so
// this side needs no dictionary either. No WINDOW_UPDATE is sent: the Go stream server
// does not wait for one, and a frame written after it closed the connection makes its
// kernel answer RST, which discards output we had received but not yet read.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { constants as zlibConstants, createDeflate, type Deflate } from 'node:zlib';

const VERSION = 3;
const enum FrameType {
  SynStream = 1,
  SynReply = 2,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  Headers = 8,
}
const FLAG_FIN = 0x01;

export interface SpdyStream {
  readonly id: number;
  /** Data written by the peer; `end` is its FIN. */
  onData(listener: (chunk: Buffer) => void): void;
  onEnd(listener: () => void): void;
  write(chunk: Buffer): void;
  /** Half-closes our side (FIN). */
  end(): void;
}

/** One SPDY/3.1 connection on which we open the streams. */
export class SpdySession {
  private nextId = 1;
  private readonly streams = new Map<number, StreamState>();
  private buffered: Buffer = Buffer.alloc(0);
  private readonly deflate: Deflate = createDeflate();
  private compressing: Promise<unknown> = Promise.resolve();
  private closedListeners: (() => void)[] = [];
  private closed = false;

  constructor(private readonly socket: Duplex, head: Buffer = Buffer.alloc(0)) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.shutdown());
    if (head.length) this.receive(head);
  }

  /** Opens a stream carrying these headers (names lower-cased, as SPDY/3 requires). */
  async openStream(headers: Record<string, string>): Promise<SpdyStream> {
    const id = this.nextId;
    this.nextId += 2;
    const state = new StreamState(id, this);
    this.streams.set(id, state);
    const block = await this.compress(headerBlock(headers));
    const body = Buffer.alloc(10);
    body.writeUInt32BE(id & 0x7fffffff, 0);
    body.writeUInt32BE(0, 4); // associated-to-stream-id
    body.writeUInt8(0, 8); // priority
    body.writeUInt8(0, 9); // slot
    this.sendControl(FrameType.SynStream, 0, Buffer.concat([body, block]));
    return state;
  }

  /** Stops (and resumes) reading from the peer, for a consumer that cannot keep up. */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Whether our writes are waiting on the peer; 'drain' on the connection says when not. */
  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  onDrain(listener: () => void): void {
    this.socket.once('drain', listener);
  }

  onClose(listener: () => void): void {
    if (this.closed) queueMicrotask(listener);
    else this.closedListeners.push(listener);
  }

  close(): void {
    this.socket.destroy();
  }

  /** @internal */
  sendData(id: number, data: Buffer, fin: boolean): void {
    if (this.closed) return;
    // Frames carry at most 2^24-1 bytes; stay well under. An empty FIN is one frame.
    let offset = 0;
    do {
      const part = data.subarray(offset, offset + 0x8000);
      offset += part.length;
      const header = Buffer.alloc(8);
      header.writeUInt32BE(id & 0x7fffffff, 0);
      header.writeUInt32BE(((fin && offset >= data.length ? FLAG_FIN : 0) << 24) | part.length, 4);
      this.socket.write(Buffer.concat([header, part]));
    } while (offset < data.length);
  }

  private sendControl(type: FrameType, flags: number, body: Buffer): void {
    if (this.closed) return;
    const header = Buffer.alloc(8);
    header.writeUInt16BE(0x8000 | VERSION, 0);
    header.writeUInt16BE(type, 2);
    header.writeUInt32BE((flags << 24) | body.length, 4);
    this.socket.write(Buffer.concat([header, body]));
  }

  /** Header blocks share one compression context, so they are compressed one at a time. */
  private compress(raw: Buffer): Promise<Buffer> {
    const run = this.compressing.then(
      () =>
        new Promise<Buffer>((resolve) => {
          const out: Buffer[] = [];
          const collect = (chunk: Buffer) => out.push(chunk);
          this.deflate.on('data', collect);
          this.deflate.write(raw);
          this.deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
            this.deflate.off('data', collect);
            resolve(Buffer.concat(out));
          });
        }),
    );
    this.compressing = run;
    return run;
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    while (this.buffered.length >= 8) {
      const length = this.buffered.readUInt32BE(4) & 0xffffff;
      if (this.buffered.length < 8 + length) return;
      const frame = this.buffered.subarray(0, 8 + length);
      this.buffered = this.buffered.subarray(8 + length);
      this.frame(frame);
    }
  }

  private frame(frame: Buffer): void {
    const flags = frame.readUInt8(4);
    const body = frame.subarray(8);
    if ((frame.readUInt8(0) & 0x80) === 0) {
      const id = frame.readUInt32BE(0) & 0x7fffffff;
      const stream = this.streams.get(id);
      if (body.length) stream?.deliver(body);
      if (flags & FLAG_FIN) stream?.finish();
      return;
    }
    const type = frame.readUInt16BE(2);
    switch (type) {
      case FrameType.Ping:
        this.sendControl(FrameType.Ping, 0, Buffer.from(body));
        break;
      case FrameType.SynReply:
      case FrameType.Headers:
        // Headers of our own streams: nothing in them matters here. A FIN still ends the stream.
        if (flags & FLAG_FIN) this.streams.get(body.readUInt32BE(0) & 0x7fffffff)?.finish();
        break;
      case FrameType.RstStream:
        this.streams.get(body.readUInt32BE(0) & 0x7fffffff)?.finish();
        break;
      case FrameType.GoAway:
        for (const s of this.streams.values()) s.finish();
        break;
      case FrameType.SynStream: {
        // The peer opening streams is not part of exec or attach: refuse it (RST_STREAM REFUSED_STREAM).
        const rst = Buffer.alloc(8);
        rst.writeUInt32BE(body.readUInt32BE(0) & 0x7fffffff, 0);
        rst.writeUInt32BE(3, 4);
        this.sendControl(FrameType.RstStream, 0, rst);
        break;
      }
      default:
        break; // SETTINGS, WINDOW_UPDATE: nothing to do for our few small streams
    }
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.finish();
    this.deflate.destroy();
    for (const l of this.closedListeners.splice(0)) l();
  }
}

class StreamState implements SpdyStream {
  private readonly dataListeners: ((chunk: Buffer) => void)[] = [];
  private readonly endListeners: (() => void)[] = [];
  private pending: Buffer[] = [];
  private ended = false;
  private finSent = false;

  constructor(
    readonly id: number,
    private readonly session: SpdySession,
  ) {}

  onData(listener: (chunk: Buffer) => void): void {
    this.dataListeners.push(listener);
    for (const c of this.pending.splice(0)) listener(c);
  }

  onEnd(listener: () => void): void {
    if (this.ended && this.pending.length === 0) queueMicrotask(listener);
    else this.endListeners.push(listener);
  }

  write(chunk: Buffer): void {
    if (!this.finSent) this.session.sendData(this.id, chunk, false);
  }

  end(): void {
    if (this.finSent) return;
    this.finSent = true;
    this.session.sendData(this.id, Buffer.alloc(0), true);
  }

  /** @internal */
  deliver(chunk: Buffer): void {
    if (this.dataListeners.length === 0) this.pending.push(Buffer.from(chunk));
    else for (const l of this.dataListeners) l(chunk);
  }

  /** @internal */
  finish(): void {
    if (this.ended) return;
    this.ended = true;
    for (const l of this.endListeners.splice(0)) l();
  }
}

/** The uncompressed SPDY/3 name/value block. */
function headerBlock(headers: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n, 0);
    return b;
  };
  const entries = Object.entries(headers);
  parts.push(u32(entries.length));
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(value, 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/**
 * Upgrades an HTTP connection to SPDY/3.1 (POST, as kubectl does) asking for `protocols`
 * (X-Stream-Protocol-Version); resolves with the raw connection and the protocol the
 * server chose.
 */
export function upgradeToSpdy(url: string, protocols: string[], timeoutMs = 15_000): Promise<{ socket: Duplex; head: Buffer; protocol: string }> {
  const target = new URL(url);
  if (target.protocol !== 'http:') return Promise.reject(new Error(`SPDY target ${url}: only http`));
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      method: 'POST',
      host: target.hostname,
      port: target.port || 80,
      path: `${target.pathname}${target.search}`,
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols, 'Content-Length': '0' },
      agent: false,
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${target.host} within ${timeoutMs} ms`)), timeoutMs);
    req.once('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      clearTimeout(timer);
      resolve({ socket, head, protocol: String(res.headers['x-stream-protocol-version'] ?? '') });
    });
    req.once('response', (res: IncomingMessage) => {
      clearTimeout(timer);
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(new Error(`the stream server refused SPDY (HTTP ${res.statusCode}): ${body.trim()}`)));
    });
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** upgradeToSpdy, then a session on the connection for opening streams. */
export async function dialSpdy(url: string, protocols: string[], timeoutMs = 15_000): Promise<{ session: SpdySession; protocol: string }> {
  const { socket, head, protocol } = await upgradeToSpdy(url, protocols, timeoutMs);
  return { session: new SpdySession(socket, head), protocol };
}
