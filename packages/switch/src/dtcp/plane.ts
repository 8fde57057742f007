/**
 * The 6in4 data plane as the DTCP control plane sees it (the agreed interface; the data
 * plane implements it): a tunnel is opened once `tunnel` is granted and closed when the
 * connection ends or a new `tunnel` replaces it.
 */
export interface SixInFourTunnelSpec {
  /** The L3 segment. */
  segment: string;
  /** Outer destination: the DTCP client's public IPv4. */
  clientV4: string;
  /** Outer source: the local address of the DTCP TCP connection. */
  serverV4: string;
  user: string;
  device: string;
  /** CIDRs the tunnel may source (its /128 and/or delegated prefix); [] for tunnelonly = link-local only. */
  sources: string[];
  /** CIDRs routed into the tunnel (its /128, its prefix). */
  routes: string[];
}

export interface SixInFourTunnel {
  readonly id: string;
  close(reason: string): void;
}

export interface SixInFourPlane {
  /** Throws ElError when the tunnel cannot be opened (its message goes to the client). */
  open(spec: SixInFourTunnelSpec): SixInFourTunnel;
  readonly size: number;
  close(): Promise<void>;
}
