/** Every limit of `elink proxy`, defined once (the CLI's --help and docs/stack.md quote these). */
export const PROXY_DEFAULTS = {
  /** Client connections open at once over all listeners (HTTP, SOCKS5, -L, -R). */
  maxConnections: 256,
  /** Seconds a relayed connection may carry nothing in either direction before both ends close. */
  idleTimeout: 300,
  /** Seconds to open a connection through the segment before 504 / SOCKS5 reply 0x04. */
  connectTimeout: 10,
  /** Seconds a client has for its SOCKS5 handshake or HTTP request head. */
  handshakeTimeout: 10,
  /** Bytes of one HTTP request head (request line and headers); beyond, 431. */
  maxHeaderSize: 16384,
  /** Seconds an idle HTTP keep-alive connection waits for its next request. */
  keepAliveTimeout: 5,
  /** Idle upstream connections kept per origin server for plain HTTP requests (all upstream connections: maxConnections + this). */
  maxIdleUpstream: 32,
} as const;

export type ProxyLimits = { -readonly [K in keyof typeof PROXY_DEFAULTS]: number };
