/**
 * The writer half of a port: what an OutputQueue hands a tick's records to. A record
 * writer encodes them for a RecordConn (a session, a trunk), a device writer gives them
 * to a TAP/TUN device, a memory writer keeps them (tests).
 */
export interface Writer {
  /** Writes a tick's records in order. `types[i]` is the RecordType of `payloads[i]`;
   * `bytes` is their encoded size (a header each plus the payloads). The arrays and the
   * payloads are only valid during the call: copy what is kept. Returns how many records
   * the writer refused (a device's queue full); never throws for a broken peer. */
  write(types: readonly number[], payloads: readonly Buffer[], bytes: number): number;
  /** Bytes handed over and not yet sent (socket.writableLength); 0 for synchronous writers. */
  backlog(): number;
}
