// An HTTPS client for tests of the secure apiserver: trusts the cluster CA, and presents a
// client certificate or a bearer token (fetch cannot present client certificates).
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';

export interface Identity {
  /** Client certificate and key files. */
  cert?: { certFile: string; keyFile: string };
  token?: string;
}

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

export function secureClient(url: string, caFile: string) {
  const ca = readFileSync(caFile);
  return (identity: Identity) =>
    (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> =>
      new Promise((resolve, reject) => {
        const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
        const all: Record<string, string> = { ...headers };
        if (text !== undefined) all['Content-Type'] ??= 'application/json';
        if (identity.token) all['Authorization'] = `Bearer ${identity.token}`;
        const req = httpsRequest(
          url + path,
          {
            method,
            ca,
            headers: all,
            // A fresh connection per request: the identity is the connection's, not the request's.
            agent: false,
            ...(identity.cert ? { cert: readFileSync(identity.cert.certFile), key: readFileSync(identity.cert.keyFile) } : {}),
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const raw = Buffer.concat(chunks).toString('utf8');
              let parsed: unknown = raw;
              try {
                parsed = JSON.parse(raw);
              } catch {
                // plain text
              }
              const h = new Headers();
              for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
              resolve({ status: res.statusCode ?? 0, body: parsed, headers: h });
            });
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(text);
      });
}
