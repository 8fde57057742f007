/**
 * The device key pair of a client, kept in its state directory (`device-key.pem`,
 * PKCS#8 PEM, mode 0600, the directory 0700). Made on first use; clients starting at
 * once share the one that appeared first: it is written whole to a file of its own and
 * then linked in under the name (link fails if the name exists), so nobody ever reads a
 * half-written key. The private key never
 * leaves the file and the process: the broker only ever sees the public key.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ElError, privateKeyFromPem, privateKeyToPem } from '@elink/protocol';

export const DEVICE_KEY_FILE = 'device-key.pem';

/** Where a client keeps its state when not told: systemd's StateDirectory, else XDG_STATE_HOME/elink, else ~/.local/state/elink. */
export function defaultClientStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const systemd = env.STATE_DIRECTORY?.split(':')[0];
  if (systemd) return systemd;
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'elink');
}

/** The device's Ed25519 private key from `dir`, made (and saved) when there is none. Throws EL_ERR_INVALID naming the file. */
export function loadOrCreateDeviceKey(dir: string): KeyObject {
  const file = join(dir, DEVICE_KEY_FILE);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!exists(file)) {
      const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
      writeFileSync(tmp, privateKeyToPem(generateKeyPairSync('ed25519').privateKey), { mode: 0o600, flag: 'wx' });
      try {
        linkSync(tmp, file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        unlinkSync(tmp);
      }
    }
    // A key others can read is no device key: tighten what an operator copied in loosely.
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return privateKeyFromPem(readFileSync(file, 'utf8'));
  } catch (e) {
    if (e instanceof ElError) throw new ElError('EL_ERR_INVALID', `device key ${file}: ${e.message}; move it away and a new one is made`);
    throw new ElError('EL_ERR_INVALID', `cannot keep the device key in ${file}: ${(e as Error).message}; give a writable --state directory`, { cause: e });
  }
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
