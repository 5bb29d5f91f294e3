// How the CLI talks to the apiserver: HTTPS with the cluster CA and a client certificate
// (the admin's, for `keel up`), as kubectl does with a kubeconfig. A small wrapper over
// node:https, since fetch cannot be given a private CA or a client certificate.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';

export interface ApiConnectionOptions {
  server: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export class ApiConnection {
  private readonly agent: Agent;

  constructor(readonly opts: ApiConnectionOptions) {
    this.agent = new Agent({
      ca: readFileSync(opts.caFile),
      cert: readFileSync(opts.certFile),
      key: readFileSync(opts.keyFile),
      keepAlive: true,
    });
  }

  request(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        new URL(path, this.opts.server),
        { method, agent: this.agent, headers: { Accept: 'application/json', ...headers }, timeout: 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // plain text (health endpoints)
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** True when the server's TLS endpoint answers 200 on `path` (anonymous health checks). */
export async function httpsAnswers(server: string, caFile: string, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(new URL(path, server), { ca: readFileSync(caFile), timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}
