/**
 * The MAC a client uses in a segment: stable per (segment, user, device), so the
 * switch can pin it and a reconnecting device keeps its neighbours' ARP/ND entries.
 * Derived, not stored: SHA-256 of the key, first byte forced to a locally
 * administered unicast address (bit 1 set, bit 0 clear: x2, x6, xA, xE).
 * Two devices colliding in one segment has odds of ≈ n²/2⁴⁷ (n = 10,000 → 7·10⁻⁷);
 * the switch refuses the second with EL_ERR_MAC_IN_USE rather than mixing them.
 */
import { createHash } from 'node:crypto';
import { formatMac, macAt } from '@elink/protocol';

export function deriveMac(segment: string, user: string, device: string): string {
  const digest = createHash('sha256').update(JSON.stringify(['el-mac', segment, user, device])).digest();
  digest[0] = (digest[0] & 0xfc) | 0x02;
  return formatMac(macAt(digest, 0));
}
