// The HTTP JSON contracts between processes (broker, switch nodes, clients, the CLI).
export * from './wire.js';
export * from './names.js';
export * from './error-body.js';
export * from './login.js';
export * from './device-login.js';
export * from './revocation.js';
export * from './challenge.js';
export * from './node-report.js';
export * from './heartbeat.js';
export * from './console.js';
export * from './health.js';
export * from './admin.js';
export * from './dtcp.js';
export * from './lost-node.js';
export * from './node-time.js';
