// Client certificate authentication: TLS has already verified the chain against the client
// CA (--client-ca-file); here the subject becomes the user, as kube-apiserver reads it:
// CN is the user name and every O is a group. A certificate without the clientAuth usage
// (a serving certificate presented as a client one) does not authenticate.

import type { UserInfo } from './user';

const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2';
const ANY_EKU_OID = '2.5.29.37.0';

/** The parts of a Node PeerCertificate this needs (so tests can hand in plain objects). */
export interface ClientCertificate {
  subject?: { CN?: string | string[]; O?: string | string[] } | null;
  /** OIDs of the extended key usages, when the certificate names any. */
  ext_key_usage?: string[];
}

const many = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The user a verified client certificate names, or a reason it names none. */
export function userFromCertificate(cert: ClientCertificate): { user: UserInfo } | { error: string } {
  const usages = cert.ext_key_usage;
  if (usages && usages.length > 0 && !usages.includes(CLIENT_AUTH_OID) && !usages.includes(ANY_EKU_OID)) {
    return { error: 'x509: certificate specifies an incompatible key usage' };
  }
  const cn = many(cert.subject?.CN ?? undefined)[0];
  if (!cn) return { error: 'x509: certificate has no common name' };
  return { user: { name: cn, groups: many(cert.subject?.O ?? undefined) } };
}
