/**
 * The DTCP reply lines, exactly as the deployed servers (KAME dtcps, Feel6) spoke them
 * (docs/dtcp.md). Each is sent followed by CR LF.
 */
export const REPLY = {
  pong: '+OK hi, happy to hear from you',
  help: '+OK valid commands are: TUNNEL PING QUIT',
  bye: '+OK see you soon.',
  invalid: '-ERR invalid command',
  authFailed: '-ERR authentication failed.',
  timedOut: '-ERR connection timed out, disconnecting',
  lineTooLong: '-ERR line too long, disconnecting',
  tooManyLines: '-ERR too many commands at once, disconnecting',
  superseded: '-ERR superseded by a new tunnel of this user, disconnecting',
  shuttingDown: '-ERR server shutting down, disconnecting',
  draining: '-ERR server shutting down; try again later',
  unavailable: '-ERR the tunnel broker is unavailable; try again later',
  needsIPv4: '-ERR tunnels need a client on IPv4; connect over IPv4',
} as const;

/** The free text of the greeting `+OK <challenge> <text>`. */
export const GREETING_TEXT = 'Emotion Link tunnel server';

export const greeting = (challenge: string): string => `+OK ${challenge} ${GREETING_TEXT}`;
export const unsupportedType = (type: string): string => `-ERR unsupported tunnel type ${type}`;
/** `-ERR <reason>`: the reason on one line. */
export const error = (reason: string): string => `-ERR ${reason.replace(/[\r\n]+/g, ' ')}`;
/** The data plane ended the tunnel (e.g. `superseded`: a newer tunnel to the same client IPv4). */
export const tunnelClosed = (reason: string): string => `-ERR tunnel closed (${reason.replace(/[\r\n]+/g, ' ')}), disconnecting`;
