/**
 * The one piece `elink proxy` takes from the user-mode stack (@elink/stack, issue 16):
 * a session to the segment (login, tickets, device key, reconnects) terminated in an
 * in-process TCP/IP stack, offered as a NetLike. Until that package is in this build,
 * joinSegment refuses with EL_ERR_UNAVAILABLE rather than pretend.
 */
import { ElError } from '@elink/protocol';
import type { ConnectorOptions } from '@elink/client';
import type { NetLike } from '@elink/proxy';

export type SegmentOptions = Pick<ConnectorOptions, 'broker' | 'credentials' | 'ca' | 'ciphers' | 'transport' | 'proxy' | 'deviceKey' | 'logger'>;

/** The segment as this process sees it: up once `welcome` configured the stack. */
export interface Segment extends NetLike {
  /** The addresses `welcome` gave the stack, for the log. */
  readonly addresses: string[];
  /** Ends the session (`bye`) and the stack. */
  close(reason: string): Promise<void>;
  /** 'fatal' (err: ElError): the session ended for good (the same failures as elink connect). */
  on(event: 'fatal', listener: (err: ElError) => void): this;
}

export async function joinSegment(_options: SegmentOptions): Promise<Segment> {
  throw new ElError('EL_ERR_UNAVAILABLE', 'elink proxy needs the user-mode TCP/IP stack (@elink/stack), which this build does not include yet');
}
