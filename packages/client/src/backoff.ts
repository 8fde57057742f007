// Shared with the switch's trunk dialer: the one implementation lives in @elink/transport.
export { Backoff, MAX_RETRY_AFTER_SECONDS, type BackoffOptions } from '@elink/transport';
