import {
  Metadata,
  credentials,
  type CallOptions,
  type ChannelOptions,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { retryableMethodsByService } from './gen/retryable-methods';

/** Options every outgoing call takes: no call goes out without a deadline. */
export interface CallSettings {
  /** Milliseconds until the call's deadline. */
  readonly timeoutMs: number;
  /** Bearer access token to send, when the call acts for a user. */
  readonly accessToken?: string | undefined;
  /** Cancels the call. */
  readonly signal?: AbortSignal | undefined;
}

export function callMetadata(accessToken: string | undefined): Metadata {
  const metadata = new Metadata();
  if (accessToken) metadata.set('authorization', `Bearer ${accessToken}`);
  return metadata;
}

export function callOptions(settings: CallSettings): Partial<CallOptions> {
  return { deadline: new Date(Date.now() + settings.timeoutMs) };
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/**
 * Calls a generated unary method and resolves with its response. A signal that is already
 * aborted cancels the call at once (it rejects with CANCELLED): a caller making calls in turn
 * for one request must not go on after that request was cancelled between two of them.
 */
export function unary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  settings: CallSettings,
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const { signal } = settings;
    const cancel = () => call.cancel();
    const call = method(
      request,
      callMetadata(settings.accessToken),
      callOptions(settings),
      (error, response) => {
        // One long-lived signal may serve many calls in turn: do not leave a listener per call on it.
        signal?.removeEventListener('abort', cancel);
        if (error) reject(error);
        else resolve(response);
      },
    );
    if (signal?.aborted) call.cancel();
    else signal?.addEventListener('abort', cancel, { once: true });
  });
}

/**
 * Methods of a service that the proto marks `idempotency_level = IDEMPOTENT` or
 * `NO_SIDE_EFFECTS`, as generate.mjs read them from the descriptor set, so the proto stays the
 * only source. Generated rather than decoded at run time: the CLI started every run by decoding
 * the whole descriptor set (and loading protobuf reflection for it) to learn these few names.
 */
export function retryableMethods(serviceName: string): string[] {
  const methods = Object.hasOwn(retryableMethodsByService, serviceName)
    ? retryableMethodsByService[serviceName]
    : undefined;
  if (!methods) throw new Error(`no service ${serviceName} in the compiled protos`);
  return [...methods];
}

/**
 * Channel options for a client of one service. Methods the proto marks idempotent or free of
 * side effects are retried on UNAVAILABLE by grpc-js itself; other methods never are.
 */
export function channelOptions(serviceName: string): ChannelOptions {
  const retryable = retryableMethods(serviceName);
  const serviceConfig = {
    loadBalancingConfig: [{ round_robin: {} }],
    methodConfig: [
      {
        name: retryable.map((method) => ({ service: serviceName, method })),
        retryPolicy: {
          maxAttempts: 4,
          initialBackoff: '0.1s',
          maxBackoff: '2s',
          backoffMultiplier: 2,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
  };
  return {
    'grpc.service_config': JSON.stringify(serviceConfig),
    'grpc.keepalive_time_ms': 30_000,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
  };
}

export const insecureCredentials = () => credentials.createInsecure();

/** Whether an error is a gRPC status error, and which. */
export function grpcCode(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && typeof (error as ServiceError).code === 'number'
    ? (error as ServiceError).code
    : undefined;
}
