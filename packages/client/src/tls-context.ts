/**
 * One TLS client context per trust setting, shared by every connection that uses it.
 * tls.connect() without `secureContext` builds a new one for each connection (a fresh
 * SSL_CTX, the CA parsed into a new X509 store, the cipher list compiled): in a
 * reconnect that is about a fifth of the client's CPU per connection. A SecureContext
 * holds only configuration (the client side keeps no session cache in it: sessions are
 * handed to the caller), so sharing one changes nothing the peer can see.
 */
import { createSecureContext, type SecureContext } from 'node:tls';

/** Trust settings kept at most (a client uses one or two: its switch CA, a proxy's). */
export const MAX_CLIENT_TLS_CONTEXTS = 8;

export interface ClientTlsSettings {
  /** PEM CA certificate(s) to trust; default the system's. */
  ca?: string | Buffer | undefined;
  /** OpenSSL cipher list (TLS 1.2); default node's. */
  ciphers?: string | undefined;
}

/** SecureContexts by their settings; the least recently used is dropped beyond `size`. */
export class ClientTlsContexts {
  // A Map keeps insertion order: the first key is the least recently used.
  private readonly contexts = new Map<string, SecureContext>();

  constructor(private readonly size = MAX_CLIENT_TLS_CONTEXTS) {}

  get(settings: ClientTlsSettings): SecureContext {
    const ca = settings.ca === undefined ? '' : typeof settings.ca === 'string' ? settings.ca : settings.ca.toString('latin1');
    // The CA text is the key: two settings share a context only when they trust the same bytes.
    const key = `${settings.ca === undefined ? 's' : 'c'}${settings.ciphers ?? ''}\0${ca}`;
    let ctx = this.contexts.get(key);
    if (ctx) {
      this.contexts.delete(key);
    } else {
      ctx = createSecureContext({ ...(settings.ca !== undefined ? { ca: settings.ca } : {}), ...(settings.ciphers !== undefined ? { ciphers: settings.ciphers } : {}) });
      if (this.contexts.size >= this.size) this.contexts.delete(this.contexts.keys().next().value!);
    }
    this.contexts.set(key, ctx);
    return ctx;
  }

  get count(): number {
    return this.contexts.size;
  }
}

const shared = new ClientTlsContexts();

/** The process-wide context for `settings` (built on first use). */
export function clientTlsContext(settings: ClientTlsSettings): SecureContext {
  return shared.get(settings);
}
