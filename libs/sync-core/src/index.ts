export * from './paths';
export * from './content-hash';
