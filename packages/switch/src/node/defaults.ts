/**
 * Every default of a switch node, in one place: SwitchNode and its parts fall back to
 * these, and the configuration schema (packages/cli) uses them as its defaults, so the
 * README table, `elink config check` and a node built in code agree.
 */
export { DEFAULT_HIGH_WATER_BYTES, DEFAULT_MAX_BYTES, DEFAULT_MAX_FRAMES, DEFAULT_WRITE_TIMEOUT_MS } from '@elink/transport';
export { DEFAULT_CONNECTION_LIMITS } from './connection-guard.js';
export { DEFAULT_FD_RESERVE } from './fd-budget.js';
export { DEFAULT_LOG_INTERVAL_MS, DEFAULT_LOG_SAMPLE } from './event-summary.js';
// Defined next to what uses them (the core and admission do not depend on the node).
export { DEFAULT_REPLAY_CACHE_SIZE } from '../admission/replay-cache.js';
export { DEFAULT_ICMP_BURST, DEFAULT_ICMP_RATE, DEFAULT_L3_MAX_ROUTES } from '../core/l3/l3-segment.js';
export { DEFAULT_SIX_IN_FOUR_MAX_TUNNELS, DEFAULT_SIX_IN_FOUR_QUEUE_FRAMES } from '../dtcp/six-in-four.js';
/** TTL of the outer IPv4 header of 6in4 packets the node sends. */
export { DEFAULT_PROTO41_TTL as DEFAULT_SIX_IN_FOUR_TTL } from '@elink/tuntap';

/** A connection that sends no hello within this is closed (EL_ERR_HELLO_TIMEOUT). */
export const DEFAULT_HELLO_TIMEOUT_MS = 5000;
/** Sessions a node holds; beyond it new ones get EL_ERR_UNAVAILABLE. */
export const DEFAULT_MAX_SESSIONS = 20_000;
/** Half-open TLS handshakes are closed after this. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** After error/bye and end(), the socket is destroyed after this. */
export const DEFAULT_CLOSE_GRACE_MS = 1000;
/** Accept the "gso" capability (FRAME_GSO records). */
export const DEFAULT_GSO = true;
/** How long a drain waits for redirected sessions to leave. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 5000;
/** Heartbeat interval of a standalone switch to its brokers. */
export const DEFAULT_BROKER_INTERVAL_MS = 5000;
