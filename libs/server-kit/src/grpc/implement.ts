import {
  status,
  type MethodDefinition,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
  type sendUnaryData,
} from '@grpc/grpc-js';
import type { Logger } from '../logger';
import type { ServiceMetrics } from '../metrics';
import type { TokenVerifier } from '../auth/principal';
import { createContext, type CallContext } from './context';
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
    return { context, finish };
  };

  if (!method.requestStream && !method.responseStream) {
    return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const { context, finish } = start(call);
      void (async () => {
        try {
          const response = await handler(call.request, context);
          finish(status.OK);
          callback(null, response);
        } catch (error) {
          const mapped = toStatus(error, context.logger);
          finish(mapped.code ?? status.UNKNOWN);
          callback(mapped);
        }
      })();
    };
  }

  if (method.requestStream && !method.responseStream) {
    return (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const { context, finish } = start(call);
      void (async () => {
        try {
          const response = await handler(requestsOf(call), context);
          finish(status.OK);
          callback(null, response);
        } catch (error) {
          const mapped = toStatus(error, context.logger);
          finish(mapped.code ?? status.UNKNOWN);
          callback(mapped);
        }
      })();
    };
  }

  return (call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>) => {
    const { context, finish } = start(call);
    const source = method.requestStream
      ? requestsOf(call as ServerDuplexStream<unknown, unknown>)
      : (call as ServerWritableStream<unknown, unknown>).request;
    void (async () => {
      try {
        for await (const message of handler(source, context) as AsyncIterable<unknown>) {
          if (context.signal.aborted) break;
          if (!call.write(message)) await waitForDrain(call, context.signal);
        }
        finish(status.OK);
        call.end();
      } catch (error) {
        const mapped = toStatus(error, context.logger);
        finish(mapped.code ?? status.UNKNOWN);
        // grpc-js turns an 'error' event into the call's status; destroy() would drop it.
        call.emit('error', Object.assign(new Error(mapped.details), mapped));
      }
    })();
  };
}

/**
 * The client's messages. Node's default stream iterator destroys the stream when iteration
 * ends, which would drop the responses still to be written and the final status.
 */
function requestsOf(call: ServerReadableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>) {
  return call.iterator({ destroyOnReturn: false }) as AsyncIterable<unknown>;
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
