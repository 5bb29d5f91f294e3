// @keel/tools-pki: the PKI command (src/main.ts); the certificate code is @keel/pki, shared with keel up.
export * from '@keel/pki';
