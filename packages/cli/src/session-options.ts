/**
 * The flags of a client session, shared by `elink connect` (and `bridge`) and `elink proxy`:
 * which broker, whose credentials, which device identity and carrier, logging, help.
 */
export const SESSION_OPTIONS = {
  broker: { type: 'string' },
  user: { type: 'string' },
  'password-file': { type: 'string' },
  segment: { type: 'string' },
  device: { type: 'string' },
  ca: { type: 'string' },
  state: { type: 'string' },
  'no-device-key': { type: 'boolean' },
  ciphers: { type: 'string' },
  transport: { type: 'string' },
  proxy: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
