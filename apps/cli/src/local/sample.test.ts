// waitForSample: waits for the Deployment's replicas, then reports what the NodePort answers.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiConnection } from './connection';
import { waitForSample } from './sample';

let server: Server;
let port = 0;
let answered = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    answered++;
    res.end('hello from keel\nmore\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** An API whose Deployment becomes available on the third read. */
function fakeApi(nodePort: number): { api: ApiConnection; reads: () => number } {
  let reads = 0;
  const api = {
    request: async (_method: string, path: string) => {
      if (path.includes('/deployments/')) {
        reads++;
        return { status: 200, body: { spec: { replicas: 2 }, status: reads >= 3 ? { availableReplicas: 2, updatedReplicas: 2 } : { availableReplicas: 1, updatedReplicas: 2 } } };
      }
      return { status: 200, body: { spec: { type: 'NodePort', ports: [{ port: 80, nodePort }] } } };
    },
  } as unknown as ApiConnection;
  return { api, reads: () => reads };
}

const applied = [
  { kind: 'Deployment', namespace: 'demo', name: 'web', result: 'created' as const },
  { kind: 'Service', namespace: 'demo', name: 'web', result: 'created' as const },
];

describe('waitForSample', () => {
  it('waits until every replica is available, then reports the first line the NodePort answers', async () => {
    const { api, reads } = fakeApi(port);
    const answers = await waitForSample(api, applied, 20_000);
    expect(reads()).toBe(3);
    expect(answered).toBeGreaterThan(0);
    expect(answers).toEqual([{ service: 'service/web -n demo', url: `http://127.0.0.1:${port}/`, answer: 'hello from keel' }]);
  });

  it('says why when nothing answers by the deadline', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const answers = await waitForSample(fakeApi(deadPort).api, applied, 1500);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.answer).toBeUndefined();
    expect(answers[0]!.error).toMatch(/ECONNREFUSED/);
  });
});
