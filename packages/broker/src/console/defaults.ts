/** Defaults of the console's settings (config `broker.console.*`), defined once. */
export const DEFAULT_CONSOLE = {
  /** A console session ends after this long without a request (s). */
  sessionIdleSeconds: 1800,
  /** … and this long after sign-in whatever happens (s). */
  sessionLifetimeSeconds: 43_200,
  /** Console sessions one broker holds at once; a new sign-in beyond ends the oldest. */
  maxSessions: 64,
  /** Open /v1/admin/events streams per broker; more are refused with 503. */
  maxStreams: 16,
  /** Audit log entries kept (store-wide, newest). */
  auditEntries: 1000,
} as const;

export interface ConsoleSettings {
  sessionIdleSeconds: number;
  sessionLifetimeSeconds: number;
  maxSessions: number;
  maxStreams: number;
  auditEntries: number;
}

/** The cookie of a console session. */
export const CONSOLE_COOKIE = 'el_console';
/** The header every non-GET request with the cookie carries. */
export const CSRF_HEADER = 'x-el-csrf';
/** How long the audit log is kept after its last entry (s). */
export const AUDIT_TTL_SECONDS = 90 * 24 * 3600;
/** Samples of a session's rates kept for its detail page (about one a second while the console watches). */
export const HISTORY_POINTS = 300;
/** Sessions whose history the broker keeps at most. */
export const MAX_HISTORY_SESSIONS = 4096;
/** Commands waiting for one node's heartbeat at most, and how long they wait (s). */
export const MAX_PENDING_COMMANDS = 64;
export const COMMAND_TTL_SECONDS = 120;
