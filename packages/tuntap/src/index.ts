export { TunTapDevice, type TunTapStats, type TunTapDeviceEvents } from './device.js';
export { type DeviceMode, type OpenOptions, MAX_NAME_LENGTH, MIN_MTU, MAX_MTU, DEFAULT_BATCH, MAX_BATCH, VNET_HDR_LENGTH } from './options.js';
export { TunTapError, type TunTapErrorReason, reasonForErrno } from './errors.js';
export {
  Proto41Socket,
  type Proto41Options,
  type Proto41Stats,
  type Proto41Handler,
  ipv4Number,
  ipv4Text,
  DEFAULT_PROTO41_BATCH,
  DEFAULT_PROTO41_SLOT,
  DEFAULT_PROTO41_TTL,
  DEFAULT_PROTO41_BUFFER,
} from './proto41-socket.js';
