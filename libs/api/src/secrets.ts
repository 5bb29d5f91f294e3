// Secret `stringData`: a write-only convenience field whose plain-text values the server
// base64-encodes into `data` (overriding same-named keys) before the Secret is validated
// and stored; it is never stored or returned itself.

import { base64Encode, utf8Encode } from './base64';
import { setOwn } from './objects';
import type { Secret } from './types/core';

/** A copy of `secret` with `stringData` folded into `data`. */
export function mergeStringData(secret: Secret): Secret {
  if (secret.stringData === undefined) return secret;
  const { stringData, ...rest } = secret;
  const data = { ...(secret.data ?? {}) };
  for (const [key, value] of Object.entries(stringData)) setOwn(data, key, base64Encode(utf8Encode(value)));
  return { ...rest, data };
}
