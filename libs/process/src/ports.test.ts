// Free ports stay out of the kernel's ephemeral range, skip ports in use, and never repeat.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ephemeralRangeStart, freeLoopbackPort, freeLoopbackPorts } from './ports';

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((s) => new Promise((ok) => s.close(ok))));
});

function hold(port: number): Promise<void> {
  const server = createServer();
  held.push(server);
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok());
  });
}

describe('freeLoopbackPort', () => {
  it('hands out ports below the ephemeral range (no outgoing connection can take one) and the NodePort range', async () => {
    const start = ephemeralRangeStart();
    for (const port of await freeLoopbackPorts(20)) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(Math.min(start, 30_000));
    }
  });

  it('never hands out the same port twice', async () => {
    const ports = await freeLoopbackPorts(50);
    expect(new Set(ports).size).toBe(50);
  });

  it('skips a port something is listening on', async () => {
    const busy = await freeLoopbackPort();
    await hold(busy);
    // The first draw lands on the busy port (random() chosen to hit it), the next one elsewhere.
    const span = Math.min(ephemeralRangeStart(), 30_000) - 20_000;
    const draws = [(busy - 20_000 + 0.5) / span, 0.5, 0.25];
    const port = await freeLoopbackPort('127.0.0.1', () => draws.shift() ?? Math.random());
    expect(port).not.toBe(busy);
    await hold(port); // and it really is free
  });
});

describe('ephemeralRangeStart', () => {
  it('reads the first number of ip_local_port_range, and falls back to 32768', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-ports-test-'));
    try {
      writeFileSync(join(dir, 'range'), '40000\t60999\n');
      expect(ephemeralRangeStart(join(dir, 'range'))).toBe(40_000);
      expect(ephemeralRangeStart(join(dir, 'missing'))).toBe(32_768);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
