// What both black-box tiers (libs/e2e, libs/contract-tests) drive the services with. The runner
// harness is a subpath of its own (@filesync/test-support/runner): jest's global setup loads it,
// and it must not pull the gRPC stubs into jest's main process.
export * from './accounts';
export * from './content';
export * from './grpc';
export * from './mailbox';
export * from './streams';
export * from './packs';
