export * from './segment-stack.js';
export * from './net-stack.js';
export * from './tcp-socket.js';
export * from './tcp-server.js';
export * from './udp-socket.js';
export * from './limits.js';
export type { NetLike, NetLikeServer, NetLikeSocket } from '@elink/protocol';
export { chooseDns, resolveName, type ChosenDns } from './dns.js';
