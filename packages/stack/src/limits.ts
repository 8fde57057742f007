/**
 * The stack's bounds on the JavaScript side (lwIP's own pools are fixed in
 * csrc/lwipopts.h). Defaults defined once, here; docs/stack.md lists them.
 */
export interface StackLimits {
  /** Open TCP connections (accepted + connected); more are refused with a reset / EMFILE. lwIP has 128 pcbs. */
  maxConnections: number;
  /** Listening sockets (lwIP has 32 listening pcbs). */
  maxListeners: number;
  /** UDP sockets (lwIP has 64 pcbs). */
  maxUdpSockets: number;
  /** Bytes a socket's writable side holds before write() returns false (lwIP holds up to 512 KiB more per connection). */
  writableHighWaterMark: number;
  /** Bytes a socket's readable side holds before the TCP window stops reopening
   * (plus at most one 512 KiB window in flight). */
  readableHighWaterMark: number;
  /** Connections accepted but not yet taken by the application, per listener; more are reset. */
  acceptBacklog: number;
}

export const DEFAULT_LIMITS: StackLimits = {
  maxConnections: 100,
  maxListeners: 16,
  maxUdpSockets: 32,
  writableHighWaterMark: 64 * 1024,
  readableHighWaterMark: 64 * 1024,
  acceptBacklog: 32,
};
