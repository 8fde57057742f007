/**
 * The DNS settings a segment pushes to its clients in `welcome` (servers, search domains),
 * once for both places that carry them: the segment's config (`segments[].dns`) and the
 * welcome message. Bounded like resolv.conf: a few servers, a few search domains.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

/** Servers pushed at most (resolv.conf reads 3; a little headroom for both families). */
export const MAX_DNS_SERVERS = 4;
/** Search domains pushed at most (resolv.conf's historical limit). */
export const MAX_DNS_SEARCH = 6;

/** An IPv4 or IPv6 address, no prefix length, no zone. */
export const dnsServerSchema = z.string().max(45).refine((s) => isIP(s) !== 0, 'an IPv4 or IPv6 address like 198.19.0.53 or fd00:e1::53');
/** A DNS domain like corp.example (no trailing dot): labels of letters, digits and -, at most 253 characters. */
export const dnsDomainSchema = z
  .string()
  .max(253)
  .regex(/^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/, 'a domain like corp.example');

/** In welcome: present only when the segment has servers; older clients ignore it. */
export const welcomeDnsSchema = z.object({
  servers: z.array(dnsServerSchema).min(1).max(MAX_DNS_SERVERS),
  search: z.array(dnsDomainSchema).max(MAX_DNS_SEARCH).optional(),
});
export type WelcomeDns = z.infer<typeof welcomeDnsSchema>;
