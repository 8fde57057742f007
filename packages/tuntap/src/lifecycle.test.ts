import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { ElError } from '@elink/protocol';
import { TunTapDevice } from './device.js';
import { TunTapError, reasonForErrno } from './errors.js';
import { kernelSkipReason, linkExists, sleep, uniqueName } from './test-support.js';

const ADDON = join(dirname(dirname(fileURLToPath(import.meta.url))), 'build', 'Release', 'tuntap.node');

function openError(fn: () => unknown): TunTapError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ElError);
    expect((err as ElError).code).toBe('EL_ERR_TUNTAP');
    return err as TunTapError;
  }
  throw new Error('expected an error');
}

describe.skipIf(kernelSkipReason !== undefined)(`device errors and lifecycle on the real kernel${kernelSkipReason ? ` (skipped: ${kernelSkipReason})` : ''}`, () => {
  const opened: TunTapDevice[] = [];
  const open = (...args: Parameters<typeof TunTapDevice.open>) => {
    const d = TunTapDevice.open(...args);
    opened.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of opened.splice(0)) d.close();
  });

  it('refuses to open an exact name that is already open, with reason busy', () => {
    const first = open({ mode: 'tap', name: uniqueName() });
    const err = openError(() => open({ mode: 'tap', name: first.name }));
    expect(err.reason).toBe('busy');
    expect(err.message).toContain(first.name);
  });

  it('refuses the name of an interface that is not a TAP/TUN device, with reason invalid', () => {
    expect(openError(() => open({ mode: 'tap', name: 'lo' })).reason).toBe('invalid');
  });

  it('turns writes after close into drops, and close twice into a no-op', async () => {
    const dev = open({ mode: 'tun', name: uniqueName() });
    let closes = 0;
    dev.on('close', () => closes++);
    dev.close();
    dev.close();
    expect(dev.closed).toBe(true);
    expect(dev.write(Buffer.alloc(40))).toBe(false);
    expect(dev.writeMany([Buffer.alloc(40), Buffer.alloc(40)])).toBe(0);
    expect(dev.stats.txDropped).toBe(3);
    dev.resume(); // no effect once closed
    dev.pause();
    expect(() => dev.setMtu(1400)).toThrow(TunTapError);
    await sleep(0);
    expect(closes).toBe(1);
    expect(linkExists(dev.name)).toBe(false);
  });

  it('reports the permission reason to a process without CAP_NET_ADMIN', () => {
    // A child as `nobody` (no capabilities after the uid change) opens through the addon itself.
    expect(existsSync(ADDON)).toBe(true);
    const script = `try { new (require(${JSON.stringify(ADDON)}).Device)(0, 'eltperm%d', 64); console.log('opened'); }
      catch (e) { console.log(JSON.stringify({ errno: e.errno, syscall: e.syscall })); }`;
    const out = execFileSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    const { errno } = JSON.parse(out) as { errno: number };
    expect([constants.errno.EACCES, constants.errno.EPERM]).toContain(errno);
    expect(reasonForErrno(errno, 'open')).toBe('permission');
  });

  it('closes the fd of a paused device that is garbage-collected without close()', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const name = uniqueName();
    let ref: WeakRef<TunTapDevice> | undefined;
    (() => {
      const dev = TunTapDevice.open({ mode: 'tap', name });
      dev.pause(); // an active device holds itself alive, like a socket
      ref = new WeakRef(dev);
    })();
    expect(linkExists(name)).toBe(true);
    const deadline = Date.now() + 5000;
    while (linkExists(name) && Date.now() < deadline) {
      gc();
      await sleep(20);
    }
    expect(ref!.deref()).toBeUndefined();
    expect(linkExists(name)).toBe(false);
  });

  it('keeps an active (polling) device alive without references until close', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const name = uniqueName();
    let ref: WeakRef<TunTapDevice> | undefined;
    (() => {
      ref = new WeakRef(TunTapDevice.open({ mode: 'tap', name }));
    })();
    for (let i = 0; i < 5; i++) {
      gc();
      await sleep(10);
    }
    const dev = ref!.deref();
    expect(dev).toBeInstanceOf(TunTapDevice);
    expect(linkExists(name)).toBe(true);
    dev!.close();
    expect(linkExists(name)).toBe(false);
  });
});
