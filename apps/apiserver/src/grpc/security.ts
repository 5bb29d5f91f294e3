// The gRPC adapter behind the same security as REST: TLS from the apiserver's serving
// certificate, client certificates from --client-ca-file (asked for, not required, so
// token clients connect too), and the REST side's authentication, RBAC, in-flight limits
// and escalation guard through Security's transport-neutral methods. grpc-js reports a
// peer certificate only when TLS verified it against the client CA, so a certificate from
// another CA is as good as none.
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { Security } from '../auth/security';
import type { UserInfo } from '../auth/user';
import type { GrpcApiOptions } from './server';

export interface GrpcTlsFiles {
  certFile: string;
  keyFile: string;
  clientCaFile?: string;
}

/**
 * Certificates read once, at startup. (grpc-js's file-watching provider loads them
 * asynchronously, and connections that arrive before it has are dropped.) An update is
 * delivered on the next microtask: grpc-js registers the server's watcher just after it
 * adds its listeners, and only updates that come after reach the listening socket — still
 * well before the port is bound.
 */
class StaticCertificates implements grpc.experimental.CertificateProvider {
  constructor(
    private readonly ca: Buffer | null,
    private readonly identity: { certificate: Buffer; privateKey: Buffer } | null,
  ) {}
  addCaCertificateListener(listener: (update: { caCertificate: Buffer } | null) => void): void {
    queueMicrotask(() => listener(this.ca ? { caCertificate: this.ca } : null));
  }
  removeCaCertificateListener(): void {
    // Nothing to stop: the certificates never change.
  }
  addIdentityCertificateListener(listener: (update: { certificate: Buffer; privateKey: Buffer } | null) => void): void {
    queueMicrotask(() => listener(this.identity));
  }
  removeIdentityCertificateListener(): void {
    // Nothing to stop: the certificates never change.
  }
}

/** Server credentials from the serving certificate files (read now: a bad file fails startup). */
export function grpcServerCredentials(files: GrpcTlsFiles): grpc.ServerCredentials {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`cannot read ${what} ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  const identity = new StaticCertificates(null, { certificate: read(files.certFile, 'the serving certificate'), privateKey: read(files.keyFile, 'its private key') });
  const clientCa = files.clientCaFile ? new StaticCertificates(read(files.clientCaFile, 'the client CA'), null) : null;
  // requireClientCertificate false: bearer-token clients present no certificate.
  return grpc.experimental.createCertificateProviderServerCredentials(identity, clientCa, false);
}

const READ_ONLY = new Set(['get', 'list', 'watch']);

/** The hooks that put GrpcApiServer behind `security`. */
export function grpcSecurityHooks(security: Security): Pick<GrpcApiOptions, 'authenticate' | 'authorize' | 'runAs' | 'createSubresources'> {
  return {
    // TokenRequest needs the token issuer, which only a secured server has.
    createSubresources: { 'serviceaccounts/token': (namespace, name, body) => security.tokenRequest(namespace, name, body) },
    authenticate: ({ metadata, authContext }) => {
      const authorization = metadata.get('authorization')[0];
      const cert = authContext?.sslPeerCertificate;
      return security.authenticateCall({
        ...(typeof authorization === 'string' ? { authorization } : {}),
        ...(cert ? { verifiedPeerCertificate: cert } : {}),
      });
    },
    authorize: (user, a) => security.authorizeResource(user as UserInfo, a),
    runAs: (user, a, work) => security.runAs(user as UserInfo, work, { readOnly: READ_ONLY.has(a.verb), longRunning: a.verb === 'watch' }),
  };
}
