import { z } from 'zod';
import { serverTls, tlsEnv, type ServerTls } from './tls';

/** Thrown when the environment does not describe a runnable service; the message is one line per problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment once at start. Every problem is reported with the variable's name, so a
 * missing or wrong value stops the service with a message that says what to set.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.') || '(environment)';
    const value = env[variable];
    return value === undefined || value === ''
      ? `${variable} is required (${issue.message})`
      : `${variable} is invalid: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
}

const port = z.coerce.number().int().min(0).max(65535);

/** Variables every service reads. */
export const serviceEnv = {
  FILESYNC_BIND_HOST: z.string().min(1).default('127.0.0.1'),
  FILESYNC_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long in-flight calls may run after SIGTERM before they are cancelled. */
  FILESYNC_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  /**
   * How long the service reports NOT_SERVING before it stops accepting calls, so health checkers
   * (load balancer, container runtime) see the drain and route new calls elsewhere first.
   */
  FILESYNC_DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  AWS_REGION: z.string().min(1),
  /** The service's own certificate and key, and the roots it trusts in its peers: see tls.ts. */
  ...tlsEnv,
};

export const portVar = (defaultPort: number) => port.default(defaultPort);

/** `http://host:port` URL without trailing slash. */
export const url = () =>
  z
    .string()
    .url()
    .transform((value) => value.replace(/\/+$/, ''));

/** A `host:port` gRPC target. */
export const grpcTarget = () =>
  z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:50051');

export const booleanVar = () =>
  z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((value) => value === 'true' || value === '1');

/** The variables of a service whose gRPC and metrics servers default to `ports`. */
export function serviceEnvFor(ports: { readonly grpc: number; readonly metrics: number }) {
  return {
    ...serviceEnv,
    FILESYNC_GRPC_PORT: portVar(ports.grpc),
    FILESYNC_METRICS_PORT: portVar(ports.metrics),
  };
}

/** What every service's composition root needs to run its server. */
export interface ServiceSettings {
  readonly host: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly logLevel: string;
  readonly shutdownGraceMs: number;
  readonly drainDelayMs: number;
  readonly region: string;
  /** Serve TLS (and call the other services over TLS) with this; absent = plaintext. */
  readonly tls?: ServerTls | undefined;
}

/**
 * The settings every service shares, from its parsed environment. Throws ConfigError when the
 * TLS variables do not fit together (see serverTls).
 */
export function serviceSettings(
  env: z.infer<z.ZodObject<ReturnType<typeof serviceEnvFor>>>,
): ServiceSettings {
  const { tls, problems } = serverTls(env);
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  return {
    host: env.FILESYNC_BIND_HOST,
    port: env.FILESYNC_GRPC_PORT,
    metricsPort: env.FILESYNC_METRICS_PORT,
    logLevel: env.FILESYNC_LOG_LEVEL,
    shutdownGraceMs: env.FILESYNC_SHUTDOWN_GRACE_MS,
    drainDelayMs: env.FILESYNC_DRAIN_DELAY_MS,
    region: env.AWS_REGION,
    tls,
  };
}
