export * from './tables';
export * from './queues';
export * from './storage';
export * from './topology';
export * from './limits';
export * from './permissions';
