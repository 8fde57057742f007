import { HEADER_LENGTH, MAX_RECORD_PAYLOAD } from '@elink/protocol';

/** The most one device read may hand over (64 packets of up to 64 KiB each, as records):
 * SwitchLink.sendFrames() queues a whole read before it writes, so the link's queue holds
 * this much; the kernel client's read limit (kernel-client.ts READ_BYTES) is derived from it. */
export const DEVICE_READ_BYTES = 64 * (HEADER_LENGTH + MAX_RECORD_PAYLOAD);
