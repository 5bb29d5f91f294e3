// How the apiserver reaches a node's agent for pods/log, exec, attach and port-forward
// (kube-apiserver's --kubelet-client-certificate, --kubelet-client-key,
// --kubelet-certificate-authority). With them the agent is called over HTTPS: the
// apiserver proves who it is with the client certificate, and the agent's serving
// certificate must chain to the CA and name the node's InternalIP (Node's hostname check
// does that for an IP host). Unlike kube-apiserver, which then skips verification, HTTPS
// without the CA is refused at startup: a node endpoint is not trusted blindly. Without
// them it stays plain HTTP, for agents that serve without TLS (tests, hollow nodes).
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface KubeletClientConfig {
  /** CA of the agents' serving certificates (PEM). */
  ca: string | Buffer;
  /** Client certificate and key (PEM) to present; without them the call is anonymous. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** The scheme agents are called with. */
export function kubeletScheme(config: KubeletClientConfig | undefined): 'http' | 'https' {
  return config ? 'https' : 'http';
}

/** The TLS options for libs/httpstream's forwardUpgrade (none for plain HTTP). */
export function kubeletUpgradeTls(config: KubeletClientConfig | undefined): { cert?: string | Buffer; key?: string | Buffer; ca?: string | Buffer } {
  if (!config) return {};
  return { ca: config.ca, ...(config.cert ? { cert: config.cert } : {}), ...(config.key ? { key: config.key } : {}) };
}

/** The config from the three flags' files (read by the caller); errors name the flag. */
export function kubeletClientFromFlags(flags: { cert?: string; key?: string; ca?: string }, read: (flag: string, file: string) => Buffer): KubeletClientConfig | undefined {
  if (!flags.cert !== !flags.key) throw new Error('--kubelet-client-certificate and --kubelet-client-key go together');
  if (!flags.ca) {
    if (flags.cert) throw new Error("--kubelet-client-certificate needs --kubelet-certificate-authority: the agents' serving certificates are verified against it");
    return undefined;
  }
  return {
    ca: read('--kubelet-certificate-authority', flags.ca),
    ...(flags.cert ? { cert: read('--kubelet-client-certificate', flags.cert), key: read('--kubelet-client-key', flags.key!) } : {}),
  };
}

/**
 * GET url on an agent; resolves with the response once its headers came (any status), so
 * the caller streams the body. Global fetch cannot present a client certificate, hence node:https.
 */
export function kubeletGet(url: string, config: KubeletClientConfig | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const options = { method: 'GET', signal, timeout: 15_000 };
    const req =
      target.protocol === 'https:'
        ? httpsRequest(target, { ...options, ...kubeletUpgradeTls(config), agent: false }, resolve)
        : httpRequest(target, options, resolve);
    // The timeout covers connecting and the answer's headers; a followed log may then idle.
    req.on('response', () => req.setTimeout(0));
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.host} within 15 s`)));
    req.on('error', reject);
    req.end();
  });
}
