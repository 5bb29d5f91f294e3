// After `keel up` applies the sample app: wait until its Deployments have every replica
// available, then ask each NodePort Service on 127.0.0.1 and report the first line of the
// answer — so the command shows the app answering, not only that its objects were stored.
import { request } from 'node:http';
import type { AppliedObject } from './apply';
import type { ApiConnection } from './connection';

export interface SampleAnswer {
  service: string;
  url: string;
  /** The first line of the answer, or why there was none. */
  answer?: string;
  error?: string;
}

interface DeploymentLike {
  spec?: { replicas?: number };
  status?: { availableReplicas?: number; updatedReplicas?: number };
}
interface ServiceLike {
  spec?: { type?: string; ports?: { nodePort?: number }[] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function httpFirstLine(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.split('\n')[0] ?? '') : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

const plural = (kind: string) => `${kind.toLowerCase()}s`;

/** Waits (up to `timeoutMs`) for the sample's Deployments, then asks its NodePort Services. */
export async function waitForSample(api: ApiConnection, applied: AppliedObject[], timeoutMs = 120_000): Promise<SampleAnswer[]> {
  const deadline = Date.now() + timeoutMs;
  for (const d of applied.filter((a) => a.kind === 'Deployment')) {
    const path = `/apis/apps/v1/namespaces/${d.namespace ?? 'default'}/deployments/${d.name}`;
    for (;;) {
      const res = await api.request('GET', path);
      const dep = res.body as DeploymentLike;
      const want = dep.spec?.replicas ?? 1;
      if (res.status === 200 && (dep.status?.availableReplicas ?? 0) >= want && (dep.status?.updatedReplicas ?? 0) >= want) break;
      if (Date.now() > deadline) break;
      await sleep(500);
    }
  }
  const answers: SampleAnswer[] = [];
  for (const s of applied.filter((a) => a.kind === 'Service')) {
    const res = await api.request('GET', `/api/v1/namespaces/${s.namespace ?? 'default'}/${plural(s.kind)}/${s.name}`);
    const svc = res.body as ServiceLike;
    const nodePort = svc.spec?.ports?.find((p) => p.nodePort)?.nodePort;
    if (res.status !== 200 || !nodePort) continue;
    const url = `http://127.0.0.1:${nodePort}/`;
    const name = `service/${s.name}${s.namespace ? ` -n ${s.namespace}` : ''}`;
    // Endpoints and rules follow the pods by a moment: ask until an answer or the deadline.
    for (;;) {
      try {
        answers.push({ service: name, url, answer: await httpFirstLine(url, 3000) });
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          answers.push({ service: name, url, error: (err as Error).message });
          break;
        }
        await sleep(500);
      }
    }
  }
  return answers;
}
