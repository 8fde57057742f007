/**
 * Which FRAME_GSO records the switch takes in (from sessions and trunks): only gso_types
 * both ends agreed on. A FRAME_GSO record goes as it is to ports that take offload, whose
 * peers hand it to their kernel: a type nobody negotiated (the old UDP fragmentation type
 * 3, an unknown one, UDP_L4 from a peer that did not name "uso") would make other clients'
 * kernels parse what they never asked for. Such a record is dropped at ingress (bad_gso).
 *
 *   NONE (0)            a frame with at most a partial checksum
 *   TCPV4 (1), TCPV6 (4) a TCP super-frame, the ECN bit allowed (an ECN flow's)
 *   UDP_L4 (5)          a UDP super-frame, only from a peer that named "uso"; no ECN bit
 *                       (the kernel never sets it on UDP)
 */
import { VNET_GSO_ECN, VNET_GSO_NONE, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_GSO_UDP_L4 } from '@elink/protocol';

/** True when `gsoType` (the header's raw gso_type byte) may come in from a peer that
 * negotiated "gso", and "uso" when `uso`. */
export function gsoTypeAgreed(gsoType: number, uso: boolean): boolean {
  switch (gsoType) {
    case VNET_GSO_NONE:
    case VNET_GSO_TCPV4:
    case VNET_GSO_TCPV6:
    case VNET_GSO_TCPV4 | VNET_GSO_ECN:
    case VNET_GSO_TCPV6 | VNET_GSO_ECN:
      return true;
    case VNET_GSO_UDP_L4:
      return uso;
    default:
      return false;
  }
}
