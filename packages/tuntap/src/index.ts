export { TunTapDevice, type TunTapStats, type TunTapDeviceEvents } from './device.js';
export { type DeviceMode, type OpenOptions, MAX_NAME_LENGTH, MIN_MTU, MAX_MTU, DEFAULT_BATCH, MAX_BATCH, VNET_HDR_LENGTH } from './options.js';
export { TunTapError, type TunTapErrorReason, reasonForErrno } from './errors.js';
