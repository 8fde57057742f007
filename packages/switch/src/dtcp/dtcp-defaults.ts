/**
 * Every default of a node's DTCP listener (`switch.dtcp`, README, docs/dtcp.md), in one
 * place: the server falls back to these and the config schema uses them.
 */
import { DTCP_TYPES, type DtcpType } from '@elink/protocol';

export interface DtcpSettings {
  /** TCP listener (IPv4: the client's address is the tunnel's outer destination). */
  listen: { host: string; port: number };
  /** The L3 segment whose pools the tunnels draw from. */
  segment: string;
  /** Tunnel types this listener grants; others answer `-ERR unsupported tunnel type <t>`. */
  types: DtcpType[];
  /** A connection without a line for this long before its tunnel is up is closed. */
  idleTimeoutMs: number;
  /** The same once a tunnel is up (clients ping every 60 s). */
  tunnelIdleTimeoutMs: number;
  /** Tunnels on this node at most; beyond, `tunnel` is refused. */
  maxTunnels: number;
  /** Unsent reply bytes a connection may have before it is dropped (a client that never reads is paused at the socket's high-water mark, 64 KiB, already: a safety net). */
  maxUnsentBytes: number;
  /** After the last reply line and end(), the socket is destroyed after this. */
  closeGraceMs: number;
}

/** KAME's and Feel6's port. */
export const DEFAULT_DTCP_PORT = 20200;

export const DEFAULT_DTCP: Readonly<Omit<DtcpSettings, 'segment'>> = {
  listen: { host: '0.0.0.0', port: DEFAULT_DTCP_PORT },
  types: [...DTCP_TYPES],
  idleTimeoutMs: 60_000,
  tunnelIdleTimeoutMs: 300_000,
  maxTunnels: 20_000,
  maxUnsentBytes: 256 * 1024,
  closeGraceMs: 1000,
};

/** A line (without its CR LF) longer than this ends the connection. */
export const DTCP_MAX_LINE = 1024;
/** Bytes read but not yet handled (while a `tunnel` is decided, or the peer does not read its replies; the socket is paused meanwhile), at most. */
export const DTCP_MAX_BUFFERED = 128 * 1024;
