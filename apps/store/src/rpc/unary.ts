// The one adapter from an async handler to a gRPC unary callback: whatever the handler
// throws leaves as etcd's status code and message (errors.ts).
import type * as grpc from '@grpc/grpc-js';
import { toStatus } from '../errors';

export function unary<Req, Res>(fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    let promise: Promise<Res>;
    try {
      promise = fn(call.request);
    } catch (err) {
      callback(toStatus(err));
      return;
    }
    promise.then(
      (res) => callback(null, res),
      (err: unknown) => callback(toStatus(err)),
    );
  };
}
