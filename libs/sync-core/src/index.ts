export * from './paths';
export * from './content-hash';
export * from './chunker';
export * from './pid-lock';
export * from './mass-delete';
export * from './path-order';
export * from './pack';
export * from './decide';
