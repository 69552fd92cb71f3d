// The rules of an AWS SecretProviderClass, shared by the provider (at mount),
// the construct (at synth) and the doctor (against a live cluster).
export * from './problems';
export * from './names';
export * from './jmespath';
export * from './objects';
export * from './parameters';
