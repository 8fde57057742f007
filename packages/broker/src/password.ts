/**
 * Password hashes: scrypt (node:crypto, async so a login never blocks the event loop)
 * in a self-describing string, so parameters can be raised later without breaking
 * stored hashes:
 *
 *   $scrypt$ln=14,r=8,p=1$<salt, base64 unpadded>$<hash, base64 unpadded>
 *
 * ln=14 (N=16384) costs ≈ 60 ms per verify on this project's 2-core machines; the
 * libuv pool runs four at a time, which is what bounds login throughput per broker.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ElError } from '@elink/protocol';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  r: number;
  p: number;
}

export interface ParsedPasswordHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = { ln: 14, r: 8, p: 1 };

const SALT_BYTES = 16;
const HASH_BYTES = 32;
// A stored hash comes from configuration or a store: cap what it may make us spend.
const MAX_MEMORY = 256 * 1024 * 1024;
const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,88})\$([A-Za-z0-9+/]{16,88})$/;

function scryptMemory({ ln, r }: ScryptParams): number {
  return 128 * 2 ** ln * r;
}

function checkParams(params: ScryptParams): void {
  const { ln, r, p } = params;
  if (!(ln >= 10 && ln <= 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16)) {
    throw new ElError('EL_ERR_CONFIG', `scrypt parameters out of range (ln 10..20, r 1..32, p 1..16): ln=${ln},r=${r},p=${p}`);
  }
  if (scryptMemory(params) > MAX_MEMORY) {
    throw new ElError('EL_ERR_CONFIG', `scrypt parameters ln=${ln},r=${r} need more than ${MAX_MEMORY >> 20} MiB; lower ln or r`);
  }
}

function derive(password: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** params.ln,
    r: params.r,
    p: params.p,
    // Node's default maxmem (32 MiB) is exactly 128·N·r at ln=15, r=8 and rejects it.
    maxmem: scryptMemory(params) * 2,
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Parses a stored hash; throws ElError EL_ERR_CONFIG naming what is wrong. */
export function parsePasswordHash(stored: string): ParsedPasswordHash {
  const m = typeof stored === 'string' ? FORMAT.exec(stored) : null;
  if (!m) throw new ElError('EL_ERR_CONFIG', 'password hash is not in the form $scrypt$ln=N,r=N,p=N$<salt>$<hash> (make one with `elink hash-password`)');
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  checkParams(params);
  const salt = Buffer.from(m[4], 'base64');
  const hash = Buffer.from(m[5], 'base64');
  if (salt.length < 8 || hash.length < 16) throw new ElError('EL_ERR_CONFIG', 'password hash has a salt under 8 bytes or a hash under 16 bytes');
  return { ...params, salt, hash };
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, HASH_BYTES);
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/** True when `password` matches `stored`. A malformed `stored` throws ElError EL_ERR_CONFIG. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  const candidate = await derive(password, parsed.salt, parsed, parsed.hash.length);
  return timingSafeEqual(candidate, parsed.hash);
}
