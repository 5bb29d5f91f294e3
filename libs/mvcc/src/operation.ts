// Operations as bytes, for the store app to put in log entries, and the checks the API
// layer should make before proposing one (the same checks apply() makes, so a bad request
// is refused early instead of costing a log entry). The encoding is JSON with Buffers as
// base64 and bigints as decimal strings: readable in a log dump, exact for every field.
import { MvccError } from './errors';
import { MAX_LEASE_TTL } from './lessor';
import { checkDuplicates } from './txn';
import type { Operation, RequestOp, TxnRequest } from './types';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function toJson(value: unknown): Json {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { $b: Buffer.from(value).toString('base64') };
  if (typeof value === 'bigint') return { $n: value.toString() };
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, Json> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toJson(item);
    return out;
  }
  return value as Json;
}

function fromJson(value: Json): unknown {
  if (Array.isArray(value)) return value.map(fromJson);
  if (value !== null && typeof value === 'object') {
    if (typeof value['$b'] === 'string') return Buffer.from(value['$b'], 'base64');
    if (typeof value['$n'] === 'string') return BigInt(value['$n']);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = fromJson(item);
    return out;
  }
  return value;
}

export function encodeOperation(op: Operation): Buffer {
  return Buffer.from(JSON.stringify(toJson(op)), 'utf8');
}

export function decodeOperation(bytes: Uint8Array): Operation {
  return fromJson(JSON.parse(Buffer.from(bytes).toString('utf8')) as Json) as Operation;
}

/** Throws the MvccError apply() would throw for a malformed request (empty key, duplicate keys, TTL too large). */
export function validateOperation(op: Operation): void {
  switch (op.type) {
    case 'put':
    case 'deleteRange':
      if (op.request.key.length === 0) throw new MvccError('EmptyKey');
      return;
    case 'txn':
      validateTxn(op.request);
      return;
    case 'compact':
      if (!Number.isSafeInteger(op.revision) || op.revision < 0) throw new MvccError('Invalid', 'invalid compact revision');
      return;
    case 'leaseGrant':
      if (op.request.ttl > MAX_LEASE_TTL) throw new MvccError('LeaseTtlTooLarge');
      if (op.request.id !== undefined && op.request.id < 0n) throw new MvccError('Invalid', 'lease ID must not be negative');
      return;
    case 'leaseRevoke':
      return;
  }
}

function validateTxn(req: TxnRequest): void {
  for (const c of req.compare ?? []) if (c.key.length === 0) throw new MvccError('EmptyKey');
  const check = (ops: RequestOp[]) => {
    for (const op of ops) {
      if ('requestTxn' in op) validateTxn(op.requestTxn);
      else {
        const key = 'requestRange' in op ? op.requestRange.key : 'requestPut' in op ? op.requestPut.key : op.requestDeleteRange.key;
        if (key.length === 0) throw new MvccError('EmptyKey');
      }
    }
  };
  check(req.success ?? []);
  check(req.failure ?? []);
  checkDuplicates(req);
}
