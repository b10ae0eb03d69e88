import {
  Metadata,
  status,
  type MethodDefinition,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type StatusObject,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import type { Logger } from '../logger';
import type { ServiceMetrics } from '../metrics';
import type { TokenVerifier } from '../auth/principal';
import { createContext, type CallContext } from './context';
import { decodingErrorOf } from './decoding';
import { toStatus } from './status';

type AnyMethod = MethodDefinition<any, any> & { requestStream: boolean; responseStream: boolean };

/** The handler shape for one method, derived from its generated definition. */
export type HandlerFor<M> =
  M extends MethodDefinition<infer Req, infer Res>
    ? M extends { requestStream: false; responseStream: false }
      ? (request: Req, context: CallContext) => Promise<Res>
      : M extends { requestStream: false; responseStream: true }
        ? (request: Req, context: CallContext) => AsyncIterable<Res>
        : M extends { requestStream: true; responseStream: true }
          ? (requests: AsyncIterable<Req>, context: CallContext) => AsyncIterable<Res>
          : (requests: AsyncIterable<Req>, context: CallContext) => Promise<Res>
    : never;

export type Handlers<D> = { [K in keyof D]: HandlerFor<D[K]> };

export interface ImplementOptions {
  readonly logger: Logger;
  readonly metrics: ServiceMetrics;
  /** Verifies bearer tokens for `context.principal()`; omit for services that verify their own. */
  readonly verifier?: TokenVerifier;
}

/**
 * Turns async handlers into a grpc-js implementation. Cross-cutting behaviour lives here once:
 * context (deadline, cancellation, caller), error mapping, logging and metrics.
 */
export function implement<D extends ServiceDefinition>(
  definition: D,
  handlers: Handlers<D>,
  options: ImplementOptions,
): UntypedServiceImplementation {
  const implementation: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition) as [string, AnyMethod][]) {
    const handler = (handlers as Record<string, (...args: any[]) => any>)[name];
    if (!handler) throw new Error(`no handler for ${method.path}`);
    implementation[name] = wrap(method, handler, options);
  }
  return implementation;
}

type AnyCall =
  | ServerUnaryCall<unknown, unknown>
  | ServerReadableStream<unknown, unknown>
  | ServerWritableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>;

function wrap(method: AnyMethod, handler: (...args: any[]) => any, options: ImplementOptions) {
  const methodName = method.path.split('/').pop() ?? method.path;

  const start = (call: AnyCall) => {
    const controller = new AbortController();
    const deadline = call.getDeadline();
    const deadlineDate =
      deadline instanceof Date ? deadline : Number.isFinite(deadline) ? new Date(deadline) : undefined;
    let timer: NodeJS.Timeout | undefined;
    if (deadlineDate) {
      const remaining = deadlineDate.getTime() - Date.now();
      timer = setTimeout(() => controller.abort(new Error('deadline exceeded')), Math.max(0, remaining));
    }
    (call as NodeJS.EventEmitter).on('cancelled', () => controller.abort(new Error('cancelled by client')));
    const context = createContext({
      method: methodName,
      metadata: call.metadata,
      signal: controller.signal,
      deadline: deadlineDate,
      logger: options.logger.child({ method: methodName }),
      verifier: options.verifier,
    });
    const stopTimer = options.metrics.latency.startTimer({ method: methodName });
    const finish = (code: status) => {
      if (timer) clearTimeout(timer);
      stopTimer();
      options.metrics.handled.inc({ method: methodName, code: status[code] });
      if (code !== status.OK) context.logger.info({ code: status[code] }, 'call failed');
    };
    /** The status of a failed call, counted. */
    const fail = (error: unknown) => {
      const mapped = controller.signal.aborted
        ? abandoned(error, controller.signal, context.logger)
        : toStatus(error, context.logger);
      finish(mapped.code ?? status.UNKNOWN);
      return mapped;
    };
    return { context, finish, fail };
  };

  if (!method.requestStream && !method.responseStream) {
    return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const { context, finish, fail } = start(call);
      void (async () => {
        try {
          const response = await handler(decoded(call.request, context), context);
          finish(status.OK);
          callback(null, response);
        } catch (error) {
          callback(fail(error));
        }
      })();
    };
  }

  if (method.requestStream && !method.responseStream) {
    return (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const { context, finish, fail } = start(call);
      void (async () => {
        try {
          const response = await handler(requestsOf(call, context), context);
          finish(status.OK);
          callback(null, response);
        } catch (error) {
          callback(fail(error));
        }
      })();
    };
  }

  return (call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>) => {
    const { context, finish, fail } = start(call);
    void (async () => {
      try {
        const source = method.requestStream
          ? requestsOf(call as ServerDuplexStream<unknown, unknown>, context)
          : decoded((call as ServerWritableStream<unknown, unknown>).request, context);
        for await (const message of handler(source, context) as AsyncIterable<unknown>) {
          if (context.signal.aborted) break;
          if (!call.write(message)) await waitForDrain(call, context.signal);
        }
        finish(status.OK);
        call.end();
      } catch (error) {
        const mapped = fail(error);
        // grpc-js turns an 'error' event into the call's status; destroy() would drop it.
        call.emit('error', Object.assign(new Error(mapped.details), mapped));
      }
    })();
  };
}

/**
 * The client's messages. Node's default stream iterator destroys the stream when iteration
 * ends, which would drop the responses still to be written and the final status. A message that
 * could not be decoded ends the stream with INVALID_ARGUMENT.
 */
async function* requestsOf(
  call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>,
  context: CallContext,
): AsyncGenerator<unknown> {
  for await (const request of call.iterator({ destroyOnReturn: false }) as AsyncIterable<unknown>) {
    yield decoded(request, context);
  }
}

/** The request, or INVALID_ARGUMENT when its bytes were no valid message (see decoding.ts). */
function decoded(request: unknown, context: CallContext): unknown {
  const error = decodingErrorOf(request);
  if (!error) return request;
  context.logger.debug({ reason: error.message }, 'request message could not be decoded');
  throw error;
}

/**
 * The status of a call that failed after the client cancelled it or its deadline passed: nobody
 * reads it, and the error is the consequence (a stream cut short, a downstream call aborted),
 * not a fault of ours, so it is logged at debug rather than as an unexpected error.
 */
function abandoned(error: unknown, signal: AbortSignal, logger: Logger): Partial<StatusObject> {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
  logger.debug({ err: error, reason }, 'call ended after it was abandoned');
  const code = /deadline/.test(reason) ? status.DEADLINE_EXCEEDED : status.CANCELLED;
  return { code, details: reason, metadata: new Metadata() };
}

function waitForDrain(call: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.removeListener('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
