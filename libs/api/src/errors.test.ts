import { describe, expect, it } from 'vitest';
import { ApiError, ApiErrors, GrpcCode } from './errors';

describe('ApiError', () => {
  it('maps each reason to its HTTP and gRPC codes', () => {
    const rows: [ApiError, number, number][] = [
      [ApiErrors.notFound({ resource: 'pods' }, 'web'), 404, GrpcCode.NOT_FOUND],
      [ApiErrors.alreadyExists({ resource: 'pods' }, 'web'), 409, GrpcCode.ALREADY_EXISTS],
      [ApiErrors.conflict({ resource: 'pods' }, 'web', 'x'), 409, GrpcCode.ABORTED],
      [ApiErrors.invalid({ kind: 'Pod' }, 'web', []), 422, GrpcCode.INVALID_ARGUMENT],
      [ApiErrors.gone('too old resource version: 1 (5)'), 410, GrpcCode.OUT_OF_RANGE],
      [ApiErrors.forbidden('no'), 403, GrpcCode.PERMISSION_DENIED],
      [new ApiError('Unauthorized', 'Unauthorized'), 401, GrpcCode.UNAUTHENTICATED],
      [ApiErrors.tooManyRequests('slow down', 1), 429, GrpcCode.RESOURCE_EXHAUSTED],
      [new ApiError('Timeout', 'late'), 504, GrpcCode.DEADLINE_EXCEEDED],
    ];
    for (const [err, http, grpc] of rows) {
      expect([err.reason, err.httpStatus, err.grpcCode]).toEqual([err.reason, http, grpc]);
    }
  });

  it('renders a 422 Status naming every bad field, as kubectl shows it', () => {
    const err = ApiErrors.invalid({ kind: 'Deployment', group: 'apps' }, 'web', [
      { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers[0].image' },
      { reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0', field: 'spec.replicas' },
    ]);
    expect(err.toStatus()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Deployment.apps "web" is invalid: [spec.template.spec.containers[0].image: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]',
      reason: 'Invalid',
      details: {
        name: 'web',
        group: 'apps',
        kind: 'Deployment',
        causes: [
          { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers[0].image' },
          { reason: 'FieldValueInvalid', message: 'Invalid value: -1: must be greater than or equal to 0', field: 'spec.replicas' },
        ],
      },
      code: 422,
    });
  });

  it('round-trips through a Status body', () => {
    const original = ApiErrors.tooManyRequests('slow down', 3);
    const back = ApiError.fromStatus(original.toStatus());
    expect(back.reason).toBe('TooManyRequests');
    expect(back.retryAfterSeconds).toBe(3);
    expect(back.httpStatus).toBe(429);
  });

  it('treats an unknown reason from the wire as an internal error', () => {
    const back = ApiError.fromStatus({ reason: 'Weird' as never, message: 'm' });
    expect(back.reason).toBe('InternalError');
  });
});
