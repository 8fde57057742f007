import { describe, it, expect } from 'vitest';
import { ElError } from '@elink/protocol';
import { hashPassword, parsePasswordHash, verifyPassword } from './password.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ElError ? err.code : 'not an ElError';
  }
  return undefined;
}

describe('password hashes', () => {
  it('verifies the password it was made from and rejects another', async () => {
    const stored = await hashPassword('correct horse');
    expect(stored).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horsE', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts: two hashes of the same password differ and both verify', async () => {
    const a = await hashPassword('same');
    const b = await hashPassword('same');
    expect(a).not.toBe(b);
    expect(parsePasswordHash(a).salt.equals(parsePasswordHash(b).salt)).toBe(false);
    expect(await verifyPassword('same', a)).toBe(true);
    expect(await verifyPassword('same', b)).toBe(true);
  });

  it('treats canonically equal Unicode spellings as the same password', async () => {
    const stored = await hashPassword('caf\u00e9');
    expect(await verifyPassword('cafe\u0301', stored)).toBe(true);
  });

  it('honours the parameters recorded in the hash (ln=15 needs more than the default maxmem)', async () => {
    const stored = await hashPassword('pw', { ln: 15, r: 8, p: 1 });
    expect(stored.startsWith('$scrypt$ln=15,r=8,p=1$')).toBe(true);
    expect(await verifyPassword('pw', stored)).toBe(true);
  });

  it('rejects malformed stored hashes with EL_ERR_CONFIG', async () => {
    const good = await hashPassword('x');
    const [, , , salt, hash] = good.split('$');
    const bad = [
      '',
      'plaintext',
      `$bcrypt$ln=14,r=8,p=1$${salt}$${hash}`,
      `$scrypt$ln=14,r=8$${salt}$${hash}`,
      `$scrypt$ln=14,r=8,p=1$${salt}`,
      `$scrypt$ln=14,r=8,p=1$${salt}$not*base64*at*all`,
      `$scrypt$ln=31,r=8,p=1$${salt}$${hash}`, // absurd cost
      `$scrypt$ln=20,r=32,p=1$${salt}$${hash}`, // over the memory cap
      `$scrypt$ln=14,r=8,p=1$${salt}$${hash}$extra`,
    ];
    for (const stored of bad) {
      expect(code(() => parsePasswordHash(stored)), stored).toBe('EL_ERR_CONFIG');
      await expect(verifyPassword('x', stored)).rejects.toMatchObject({ code: 'EL_ERR_CONFIG' });
    }
  });

  it('refuses to make a hash with out-of-range parameters', async () => {
    await expect(hashPassword('x', { ln: 4, r: 8, p: 1 })).rejects.toMatchObject({ code: 'EL_ERR_CONFIG' });
  });
});
