export * from './install';
export * from './bundled-provider';
export * from './secret-object';
export * from './secret-provider-class';
export * from './workload-identity';
export * from './secrets-store-class';
export * from './secrets-store';
