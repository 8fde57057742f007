import { describe, expect, it } from 'vitest';
import { VNET_GSO_ECN, VNET_GSO_NONE, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_GSO_UDP, VNET_GSO_UDP_L4 } from '@elink/protocol';
import { gsoTypeAgreed } from './gso-ingress.js';

describe('gsoTypeAgreed: the gso_types a gso peer may send', () => {
  it('takes NONE and TCP (with or without ECN) from any gso peer, UDP_L4 only with uso', () => {
    for (const uso of [false, true]) {
      for (const t of [VNET_GSO_NONE, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_GSO_TCPV4 | VNET_GSO_ECN, VNET_GSO_TCPV6 | VNET_GSO_ECN]) expect(gsoTypeAgreed(t, uso)).toBe(true);
    }
    expect(gsoTypeAgreed(VNET_GSO_UDP_L4, true)).toBe(true);
    expect(gsoTypeAgreed(VNET_GSO_UDP_L4, false)).toBe(false);
  });

  it('refuses every other byte: UDP fragmentation (3), unknown types, ECN on NONE or UDP_L4', () => {
    const agreed = new Set([VNET_GSO_NONE, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_GSO_TCPV4 | VNET_GSO_ECN, VNET_GSO_TCPV6 | VNET_GSO_ECN, VNET_GSO_UDP_L4]);
    const refused: number[] = [];
    for (let t = 0; t < 256; t++) if (!agreed.has(t)) refused.push(t);
    expect(refused).toContain(VNET_GSO_UDP);
    expect(refused).toContain(VNET_GSO_UDP_L4 | VNET_GSO_ECN);
    expect(refused).toContain(VNET_GSO_ECN);
    expect(refused).toHaveLength(250);
    for (const t of refused) expect(gsoTypeAgreed(t, true)).toBe(false);
  });
});
