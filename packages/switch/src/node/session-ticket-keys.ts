/**
 * TLS session ticket keys for the client port. node:tls makes random ones per process,
 * so a client can resume its TLS session only at the process that issued its ticket.
 * Derived from the cluster secret instead, every node of a cluster has the same keys, and
 * a client resumes at whichever node the balancer picks (a cheaper reconnect after a
 * node is lost). Changing the cluster secret changes them (old tickets then fall back
 * to a full handshake, nothing else).
 */
import { hkdfSync } from 'node:crypto';

/**
 * The TLS session id context of the client port, the same at every node. node:tls
 * defaults it to a hash of the process's command line, and OpenSSL resumes a session
 * only in the context that made it: nodes started with different arguments (`--node-id`,
 * `--state`, ports) refused each other's sessions despite the shared keys.
 */
export const SWITCH_SESSION_ID_CONTEXT = 'elink switch client port v1';

/** node:tls takes 48 bytes: a 16-byte key name, a 16-byte HMAC key, a 16-byte AES key. */
export const SESSION_TICKET_KEYS_LENGTH = 48;

export function sessionTicketKeys(clusterSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', clusterSecret, 'elink switch', 'TLS session ticket keys v1', SESSION_TICKET_KEYS_LENGTH));
}
