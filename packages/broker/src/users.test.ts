import { describe, it, expect } from 'vitest';
import { hashPassword } from './password.js';
import { MemoryUserDirectory } from './users.js';

describe('MemoryUserDirectory', () => {
  it('finds users by exact name and returns undefined for others', async () => {
    const hash = await hashPassword('pw');
    const dir = new MemoryUserDirectory([{ name: 'alice', passwordHash: hash, segments: ['lan', 'lab'] }]);
    expect(await dir.get('alice')).toEqual({ name: 'alice', passwordHash: hash, segments: ['lan', 'lab'] });
    expect(await dir.get('Alice')).toBeUndefined();
    expect(await dir.get('')).toBeUndefined();
    await expect(dir.ping()).resolves.toBeUndefined();
  });

  it('fails at construction, with EL_ERR_CONFIG naming the user, on a duplicate or a malformed hash', async () => {
    const hash = await hashPassword('pw');
    expect(() => new MemoryUserDirectory([
      { name: 'alice', passwordHash: hash, segments: [] },
      { name: 'alice', passwordHash: hash, segments: [] },
    ])).toThrow(expect.objectContaining({ code: 'EL_ERR_CONFIG', message: 'user "alice" is defined twice' }));
    expect(() => new MemoryUserDirectory([{ name: 'bob', passwordHash: 'hunter2', segments: [] }])).toThrow(
      expect.objectContaining({ code: 'EL_ERR_CONFIG', message: expect.stringMatching(/^user "bob": password hash is not in the form/) }),
    );
  });

  it('setUsers swaps the whole set: added users log in, removed ones are gone; a bad set keeps the old one', async () => {
    const hash = await hashPassword('pw');
    const dir = new MemoryUserDirectory([{ name: 'alice', passwordHash: hash, segments: ['lab'] }]);
    dir.setUsers([{ name: 'bob', passwordHash: hash, segments: ['lab'] }]);
    expect(await dir.get('alice')).toBeUndefined();
    expect((await dir.get('bob'))?.segments).toEqual(['lab']);
    expect(() => dir.setUsers([{ name: 'carol', passwordHash: hash, segments: [] }, { name: 'dave', passwordHash: 'x', segments: [] }])).toThrow(
      expect.objectContaining({ code: 'EL_ERR_CONFIG', message: expect.stringMatching(/^user "dave"/) }),
    );
    expect(await dir.get('carol')).toBeUndefined();
    expect(await dir.get('bob')).toBeDefined();
  });
});
