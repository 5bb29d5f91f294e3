// Who may use the agent's node endpoint (kubelet's port 10250): with --client-ca-file, a
// caller must present a client certificate that CA signed (else 401, as kubelet answers an
// unauthenticated request), and the certificate's user (CN) or one of its groups (O) must be
// authorized (else 403). Kubelet asks the apiserver through a SubjectAccessReview; Keel's
// agent keeps a fixed list instead — by default the apiserver's kubelet client
// (kube-apiserver-kubelet-client, the CN kubeadm gives it) and system:masters — so the
// endpoint needs nothing from the control plane to decide. Only GET /healthz stays open, so
// a supervisor can probe the agent without a certificate.
import type { PeerCertificate } from 'node:tls';

export interface NodeAuthPolicy {
  /** User names (certificate CN) allowed through. */
  users: readonly string[];
  /** Groups (certificate O entries) allowed through. */
  groups: readonly string[];
}

export const DEFAULT_NODE_AUTH: NodeAuthPolicy = { users: ['kube-apiserver-kubelet-client'], groups: ['system:masters'] };

export interface CertIdentity {
  user: string;
  groups: string[];
}

/** What the TLS layer knows about the caller: whether its chain verified, and its certificate. */
export interface TlsPeer {
  /** tls.TLSSocket#authorized: the peer sent a certificate the client CA signed. */
  authorized: boolean;
  /** tls.TLSSocket#authorizationError, when it did not. */
  authorizationError?: string | Error | null;
  /** The peer's certificate (empty object when it sent none). */
  certificate?: Partial<PeerCertificate>;
}

export type NodeAuthDecision = { allowed: true; identity?: CertIdentity } | { allowed: false; code: 401 | 403; message: string };

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The user and groups of a client certificate, read as kube-apiserver reads them (CN, O). */
export function certIdentity(cert: Partial<PeerCertificate> | undefined): CertIdentity | undefined {
  // Node gives a multi-valued RDN (several O entries) as an array, though its types say string.
  const subject = cert?.subject as unknown as Record<string, string | string[] | undefined> | undefined;
  const user = list(subject?.['CN'])[0];
  return user ? { user, groups: list(subject?.['O']) } : undefined;
}

/** Whether GET/HEAD path is the open health probe. */
export function isOpenPath(method: string | undefined, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && path === '/healthz';
}

/** The decision for one request on a TLS connection whose client certificates the client CA checks. */
export function authorizeNodeRequest(method: string | undefined, path: string, peer: TlsPeer, policy: NodeAuthPolicy): NodeAuthDecision {
  if (isOpenPath(method, path)) return { allowed: true };
  const identity = peer.authorized ? certIdentity(peer.certificate) : undefined;
  if (!identity) {
    const why = peer.certificate && Object.keys(peer.certificate).length > 0 ? `client certificate not trusted (${String(peer.authorizationError ?? 'unknown CA')})` : 'no client certificate';
    return { allowed: false, code: 401, message: `Unauthorized: ${why}` };
  }
  if (policy.users.includes(identity.user) || identity.groups.some((g) => policy.groups.includes(g))) return { allowed: true, identity };
  const groups = identity.groups.length ? ` (groups ${identity.groups.join(', ')})` : '';
  return { allowed: false, code: 403, message: `Forbidden: user "${identity.user}"${groups} may not use the node endpoint (${path.split('/')[1] || '/'})` };
}
