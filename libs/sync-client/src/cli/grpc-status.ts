// gRPC's status names, for describeError in main.ts, which loads this module only for a gRPC
// error. A module of ours, because a dynamic import of @grpc/grpc-js itself (CommonJS) would not
// have its named exports in the bundle (tools/bundle.mjs): esbuild's chunk exports only `default`.
export { status } from '@grpc/grpc-js';
