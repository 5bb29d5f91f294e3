// Reaching the apiserver the way every Keel component's flags describe it: an address, and
// optionally a CA (TLS), a client certificate and key, and a bearer token file. One place
// checks the combinations and reads the files, so the scheduler, the controller-manager and
// the agent say the same thing about the same mistake.
import { readFileSync } from 'node:fs';
import { Client } from './client';
import { GrpcTransport } from './transport';

export interface ApiCredentialFiles {
  /** host:port of the apiserver's keel.v1 gRPC API. */
  address: string;
  certificateAuthority?: string;
  clientCertificate?: string;
  clientKey?: string;
  tokenFile?: string;
}

/** A flag problem: the message says which flag and why, for a one-line exit 2. */
export class CredentialError extends Error {
  override readonly name = 'CredentialError';
}

function read(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CredentialError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** A client for the apiserver described by `files`; throws CredentialError on a bad combination. */
export function clientFromFiles(files: ApiCredentialFiles): Client {
  if (Boolean(files.clientCertificate) !== Boolean(files.clientKey)) {
    throw new CredentialError('--client-certificate and --client-key go together');
  }
  if (files.clientCertificate && !files.certificateAuthority) {
    throw new CredentialError('a client certificate needs TLS: give --certificate-authority too');
  }
  const tls = files.certificateAuthority
    ? {
        ca: read(files.certificateAuthority),
        ...(files.clientCertificate && files.clientKey ? { cert: read(files.clientCertificate), key: read(files.clientKey) } : {}),
      }
    : undefined;
  const token = files.tokenFile ? read(files.tokenFile).toString('utf8').trim() : undefined;
  return new Client(new GrpcTransport({ address: files.address, ...(tls ? { tls } : {}), ...(token ? { token } : {}) }));
}
