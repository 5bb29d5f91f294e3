// Just enough of Kubernetes' protobuf wire format to read the review and TokenRequest bodies
// kubectl 1.33 sends as `application/vnd.kubernetes.protobuf` (its typed clients do; the
// answer may be JSON, which it also accepts). A body is the magic `k8s\0` and a
// runtime.Unknown {1: TypeMeta {1: apiVersion, 2: kind}, 2: raw object}; the objects' field
// numbers are those of k8s.io/api authorization/v1 and authentication/v1 (generated.proto).
import { ApiErrors } from '@keel/api';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Field = { wire: 0; value: bigint } | { wire: 2; value: Buffer };

/** The fields of one message by number (repeated fields keep every occurrence, in order). */
function fields(buf: Buffer): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw ApiErrors.badRequest('protobuf: truncated varint');
      const byte = buf[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw ApiErrors.badRequest('protobuf: varint too long');
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const number = key >>> 3;
    const wire = key & 7;
    let field: Field | undefined;
    if (wire === 0) field = { wire: 0, value: varint() };
    else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw ApiErrors.badRequest('protobuf: truncated field');
      field = { wire: 2, value: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw ApiErrors.badRequest(`protobuf: unsupported wire type ${wire}`);
    if (field) out.set(number, [...(out.get(number) ?? []), field]);
  }
  return out;
}

const bytesOf = (m: Map<number, Field[]>, n: number): Buffer | undefined => {
  const f = m.get(n)?.at(-1);
  return f?.wire === 2 ? f.value : undefined;
};
const str = (m: Map<number, Field[]>, n: number): string | undefined => bytesOf(m, n)?.toString('utf8');
const strs = (m: Map<number, Field[]>, n: number): string[] => (m.get(n) ?? []).flatMap((f) => (f.wire === 2 ? [f.value.toString('utf8')] : []));
const int = (m: Map<number, Field[]>, n: number): number | undefined => {
  const f = m.get(n)?.at(-1);
  return f?.wire === 0 ? Number(f.value) : undefined;
};
const msg = (m: Map<number, Field[]>, n: number) => {
  const b = bytesOf(m, n);
  return b === undefined ? undefined : fields(b);
};

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Whether a body is Kubernetes protobuf (by its media type). */
export function isProtobuf(mediaType: string): boolean {
  return mediaType === 'application/vnd.kubernetes.protobuf';
}

/** A protobuf body as the JSON object it stands for; only the kinds security serves. */
export function decodeProtobufBody(raw: Buffer): Record<string, unknown> {
  if (raw.length < 4 || !raw.subarray(0, 4).equals(MAGIC)) throw ApiErrors.badRequest('protobuf: the body does not start with the k8s magic bytes');
  const unknown = fields(raw.subarray(4));
  const typeMeta = msg(unknown, 1);
  const apiVersion = typeMeta ? str(typeMeta, 1) : undefined;
  const kind = typeMeta ? str(typeMeta, 2) : undefined;
  const object = fields(bytesOf(unknown, 2) ?? Buffer.alloc(0));
  const spec = msg(object, 2);
  const base = { apiVersion, kind };
  switch (`${apiVersion}/${kind}`) {
    case 'authorization.k8s.io/v1/SelfSubjectAccessReview': {
      const ra = spec && msg(spec, 1);
      const na = spec && msg(spec, 2);
      return {
        ...base,
        spec: defined({
          resourceAttributes: ra && defined({
            namespace: str(ra, 1),
            verb: str(ra, 2),
            group: str(ra, 3),
            version: str(ra, 4),
            resource: str(ra, 5),
            subresource: str(ra, 6),
            name: str(ra, 7),
          }),
          nonResourceAttributes: na && defined({ path: str(na, 1), verb: str(na, 2) }),
        }),
      };
    }
    case 'authorization.k8s.io/v1/SelfSubjectRulesReview':
      return { ...base, spec: defined({ namespace: spec && str(spec, 1) }) };
    case 'authentication.k8s.io/v1/SelfSubjectReview':
      return base;
    case 'authentication.k8s.io/v1/TokenRequest': {
      const bound = spec && msg(spec, 3);
      const audiences = spec ? strs(spec, 1) : [];
      return {
        ...base,
        spec: defined({
          audiences: audiences.length > 0 ? audiences : undefined,
          expirationSeconds: spec && int(spec, 4),
          boundObjectRef: bound && defined({ kind: str(bound, 1), apiVersion: str(bound, 2), name: str(bound, 3), uid: str(bound, 4) }),
        }),
      };
    }
    default:
      throw ApiErrors.badRequest(`protobuf bodies are read only for the review kinds and TokenRequest, not ${apiVersion ?? '?'} ${kind ?? '?'}`);
  }
}
