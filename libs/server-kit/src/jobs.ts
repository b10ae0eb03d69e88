/**
 * What a batch job (the metadata service's garbage collector) needs from the kit: configuration
 * and AWS client settings, without the gRPC server modules, which load .proto files at start.
 */
export * from './config';
export * from './aws';
