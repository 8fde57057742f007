import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ElError } from '@elink/protocol';
import { TunTapError, reasonForErrno, tunTapErrorFromNative } from './errors.js';
import { checkOptions } from './options.js';
import { TunTapDevice } from './device.js';

const E = constants.errno;

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ElError);
    expect((err as ElError).code).toBe('EL_ERR_TUNTAP');
    return (err as TunTapError).reason;
  }
  return undefined;
}

// These checks run before any system call, so they need neither root nor /dev/net/tun.
describe('open options', () => {
  it('defaults the name by mode, the batch to 64 and up to false', () => {
    expect(checkOptions({ mode: 'tap' })).toMatchObject({ name: 'el%d', batch: 64, readBytes: 0, up: false });
    expect(checkOptions({ mode: 'tun' })).toMatchObject({ name: 'elt%d' });
  });

  it('rejects names the kernel would refuse, with reason invalid', () => {
    for (const name of ['', 'a'.repeat(16), 'has space', 'a/b', 'a:b', '.', '..', 'el%s', 'el%d%d', 'é']) {
      expect(reasonOf(() => TunTapDevice.open({ mode: 'tap', name })), name).toBe('invalid');
    }
    expect(() => checkOptions({ mode: 'tap', name: 'a'.repeat(15) })).not.toThrow();
    expect(() => checkOptions({ mode: 'tap', name: 'x%d' })).not.toThrow();
  });

  it('rejects bad MTU, MAC, batch and mode values, with reason invalid', () => {
    expect(reasonOf(() => TunTapDevice.open({ mode: 'tap', name: 'elx0', mtu: 67 }))).toBe('invalid');
    expect(reasonOf(() => TunTapDevice.open({ mode: 'tap', name: 'elx0', mtu: 1500.5 }))).toBe('invalid');
    expect(reasonOf(() => TunTapDevice.open({ mode: 'tap', name: 'elx0', mtu: 65536 }))).toBe('invalid');
    expect(reasonOf(() => TunTapDevice.open({ mode: 'tap', name: 'elx0', mac: 'zz:00:00:00:00:00' }))).toBe('invalid');
    expect(reasonOf(() => TunTapDevice.open({ mode: 'tap', name: 'elx0', mac: '01:00:5e:00:00:01' }))).toBe('invalid');
    expect(reasonOf(() => TunTapDevice.open({ mode: 'tap', name: 'elx0', mac: '00:00:00:00:00:00' }))).toBe('invalid');
    expect(reasonOf(() => TunTapDevice.open({ mode: 'tun', name: 'elx0', mac: '02:00:00:00:00:01' }))).toBe('invalid');
    expect(reasonOf(() => TunTapDevice.open({ mode: 'tap', name: 'elx0', batch: 0 }))).toBe('invalid');
    expect(reasonOf(() => TunTapDevice.open({ mode: 'tap', name: 'elx0', batch: 5000 }))).toBe('invalid');
    for (const readBytes of [-1, 1.5, 2 ** 31]) expect(reasonOf(() => TunTapDevice.open({ mode: 'tap', name: 'elx0', readBytes }))).toBe('invalid');
    expect(reasonOf(() => TunTapDevice.open({ mode: 'bridge' as 'tap', name: 'elx0' }))).toBe('invalid');
  });

  it('parses a MAC into its 6 bytes', () => {
    expect(checkOptions({ mode: 'tap', mac: '02:E1:00:00:00:0a' }).mac).toEqual(Buffer.from([2, 0xe1, 0, 0, 0, 10]));
  });
});

describe('errno mapping', () => {
  it('maps open errors to the documented reasons', () => {
    expect(reasonForErrno(E.ENOENT, 'open')).toBe('no_tun_device');
    expect(reasonForErrno(E.ENODEV, 'open')).toBe('no_tun_device');
    expect(reasonForErrno(E.EPERM, 'open')).toBe('permission');
    expect(reasonForErrno(E.EACCES, 'open')).toBe('permission');
    expect(reasonForErrno(E.EBUSY, 'open')).toBe('busy');
    expect(reasonForErrno(E.EINVAL, 'open')).toBe('invalid');
    expect(reasonForErrno(E.EIO, 'open')).toBe('io');
    expect(reasonForErrno(E.ENODEV, 'set_mtu')).toBe('io');
  });

  it('builds an actionable message from a native error', () => {
    const native = Object.assign(new Error('open(/dev/net/tun): No such file or directory'), { errno: E.ENOENT, syscall: 'open(/dev/net/tun)' });
    const err = tunTapErrorFromNative(native, 'open', 'cannot create TAP device el%d');
    expect(err).toBeInstanceOf(ElError);
    expect(err.code).toBe('EL_ERR_TUNTAP');
    expect(err.reason).toBe('no_tun_device');
    expect(err.message).toMatch(/--device \/dev\/net\/tun/);
    expect(err.cause).toBe(native);
    const perm = tunTapErrorFromNative(Object.assign(new Error('x'), { errno: E.EPERM }), 'open', 'cannot create');
    expect(perm.message).toMatch(/root or CAP_NET_ADMIN/);
  });
});
