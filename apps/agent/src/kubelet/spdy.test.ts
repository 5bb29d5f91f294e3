// The SPDY/3.1 client's frames as a peer reads them off a real loopback connection:
// SYN_STREAM layout and zlib-compressed header blocks (one stream across frames), data
// frames with FIN as half-close, PING answered, and the peer's data and FIN delivered.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { createInflate, constants as zlibConstants } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { SpdySession } from './spdy';

let server: Server | undefined;
afterEach(() => server?.close());

interface Frame {
  control: boolean;
  version: number;
  type: number;
  flags: number;
  body: Buffer;
}

/** A loopback peer that records every frame it receives. */
async function peer(): Promise<{ client: Socket; remote: () => Socket; frames: Frame[] }> {
  const frames: Frame[] = [];
  let remote: Socket | undefined;
  server = createServer((s) => {
    remote = s;
    let buf = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 8 && buf.length >= 8 + (buf.readUInt32BE(4) & 0xffffff)) {
        const length = buf.readUInt32BE(4) & 0xffffff;
        const control = (buf[0]! & 0x80) !== 0;
        frames.push({ control, version: buf.readUInt16BE(0) & 0x7fff, type: control ? buf.readUInt16BE(2) : buf.readUInt32BE(0), flags: buf[4]!, body: Buffer.from(buf.subarray(8, 8 + length)) });
        buf = buf.subarray(8 + length);
      }
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  return { client, remote: () => remote!, frames };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  return check();
};

/** Inflates consecutive header blocks with one context, as the peer's framer does. */
function headerReader() {
  const inflate = createInflate();
  return (block: Buffer) =>
    new Promise<Record<string, string>>((resolve) => {
      const out: Buffer[] = [];
      const collect = (c: Buffer) => out.push(c);
      inflate.on('data', collect);
      inflate.write(block);
      inflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        inflate.off('data', collect);
        const raw = Buffer.concat(out);
        const headers: Record<string, string> = {};
        let at = 4;
        for (let i = 0; i < raw.readUInt32BE(0); i++) {
          const n = raw.readUInt32BE(at);
          const name = raw.subarray(at + 4, at + 4 + n).toString();
          at += 4 + n;
          const v = raw.readUInt32BE(at);
          headers[name] = raw.subarray(at + 4, at + 4 + v).toString();
          at += 4 + v;
        }
        resolve(headers);
      });
    });
}

describe('SpdySession', () => {
  it('opens streams with compressed headers, sends data and FIN, and answers PING', async () => {
    const { client, remote, frames } = await peer();
    const session = new SpdySession(client);
    const error = await session.openStream({ streamtype: 'error' });
    const stdin = await session.openStream({ streamType: 'stdin' });
    expect([error.id, stdin.id]).toEqual([1, 3]);
    stdin.write(Buffer.from('hi'));
    stdin.end();
    expect(await until(() => frames.length === 4)).toBe(true);
    const read = headerReader();
    const syn = frames.filter((f) => f.control && f.type === 1);
    expect(syn.map((f) => [f.version, f.body.readUInt32BE(0)])).toEqual([
      [3, 1],
      [3, 3],
    ]);
    // Header names lower-cased, as SPDY/3 requires.
    expect(await read(syn[0]!.body.subarray(10))).toEqual({ streamtype: 'error' });
    expect(await read(syn[1]!.body.subarray(10))).toEqual({ streamtype: 'stdin' });
    const data = frames.filter((f) => !f.control);
    expect(data.map((f) => [f.type, f.flags, f.body.toString()])).toEqual([
      [3, 0, 'hi'],
      [3, 1, ''],
    ]);

    // The peer pings, then writes on the error stream and ends it.
    const ping = Buffer.from([0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 7]);
    const got: string[] = [];
    let ended = false;
    error.onData((c) => got.push(c.toString()));
    error.onEnd(() => (ended = true));
    remote().write(ping);
    const status = Buffer.from('{"status":"Success"}');
    const header = Buffer.alloc(8);
    header.writeUInt32BE(1, 0);
    header.writeUInt32BE((1 << 24) | status.length, 4);
    remote().write(Buffer.concat([header, status]));
    expect(await until(() => ended && frames.some((f) => f.control && f.type === 6))).toBe(true);
    expect(got.join('')).toBe('{"status":"Success"}');
    expect(frames.find((f) => f.control && f.type === 6)!.body.readUInt32BE(0)).toBe(7);
    session.close();
  });
});
