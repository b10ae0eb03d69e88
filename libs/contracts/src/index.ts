export * as common from './gen/filesync/common/v1/common';
export * as auth from './gen/filesync/auth/v1/auth';
export * as metadata from './gen/filesync/metadata/v1/metadata';
export * as syncdiff from './gen/filesync/syncdiff/v1/syncdiff';
export * as notifier from './gen/filesync/notifier/v1/notifier';
export { descriptorSetBase64 } from './gen/descriptor-set';
export * from './client';
export { ACTION_OF } from './actions';
export * from './tls';
