export * from './backoff.js';
export * from './login.js';
export * from './switch-link.js';
export * from './connector.js';
export * from './netconf.js';
export * from './kernel-client.js';
export * from './failure-kind.js';
export * from './certificate-failure.js';
