// Reading request bodies: a size limit (3 MiB, as Kubernetes), and JSON, YAML or Kubernetes
// protobuf by Content-Type, with errors that say what was wrong instead of a stack trace.
import { ApiError, ApiErrors } from '@keel/api';
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { decodeKubernetesProtobuf, PROTOBUF_MEDIA_TYPE } from './protobuf/decode';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new ApiError('RequestEntityTooLarge', `the request body is ${declared} bytes, larger than the limit of ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw new ApiError('RequestEntityTooLarge', `the request body is larger than the limit of ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The media type without parameters, lower-cased: `application/json`. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Parses a JSON, YAML or protobuf body (YAML or protobuf when the media type says so). */
export function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  const type = mediaType(contentType);
  // kubectl 1.33's typed clients (create namespace|deployment|secret..., create token, the
  // reviews) send protobuf; it reads back to the same object JSON would have carried.
  if (type === PROTOBUF_MEDIA_TYPE) return decodeKubernetesProtobuf(raw);
  const text = raw.toString('utf8');
  if (text.trim() === '') throw ApiErrors.badRequest('the request body is empty');
  if (type.endsWith('yaml')) {
    try {
      return parseYaml(text);
    } catch (err) {
      throw ApiErrors.badRequest(`error converting YAML to JSON: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (type !== '' && !type.endsWith('json')) {
    throw new ApiError('UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw ApiErrors.badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}
