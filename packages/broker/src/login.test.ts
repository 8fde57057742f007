import { describe, expect, it } from 'vitest';
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { generateTicketKeyPair, rawDeviceKey, segmentSchema, signDeviceLogin, verifyTicket } from '@elink/protocol';
import { RateLimiter } from './rate-limit.js';
import { Ipam } from './ipam.js';
import { MemoryStore } from './store/memory-store.js';
import { LoginService } from './login.js';
import { hashPassword } from './password.js';
import { TicketIssuer } from './tickets.js';
import { MemoryUserDirectory } from './users.js';

describe('LoginService', () => {
  it('puts a user\'s MAC allowance and LAN ranges into the ticket, and none for ordinary users', async () => {
    const keys = generateTicketKeyPair();
    const segments = [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })];
    const service = await LoginService.create({
      segments,
      users: new MemoryUserDirectory([
        { name: 'bridge', passwordHash: await hashPassword('bridge-pw'), segments: ['lan'], macs: 256, lan: ['192.168.7.0/24'] },
        { name: 'phone', passwordHash: await hashPassword('phone-pw'), segments: ['lan'] },
      ]),
      ipam: new Ipam(segments, new MemoryStore()),
      issuer: new TicketIssuer(keys.privateKey),
      nodes: () => [{ node: 'sw-1', host: '127.0.0.1', port: 4443 }],
    });
    const trusted = [createPublicKey(keys.privateKey)];
    const bridge = verifyTicket((await service.login({ user: 'bridge', password: 'bridge-pw' })).ticket, trusted);
    const phone = verifyTicket((await service.login({ user: 'phone', password: 'phone-pw' })).ticket, trusted);
    expect(bridge.macs).toBe(256);
    expect(phone.macs).toBeUndefined();
    expect(bridge.lan).toEqual(['192.168.7.0/24']);
    expect(phone.lan).toBeUndefined();
  });
});

describe('LoginService device logins', () => {
  async function setup(now = { t: Date.now() }) {
    const keys = generateTicketKeyPair();
    const segments = [segmentSchema.parse({ name: 'lan', ipv4: { pool: '198.19.0.0/24' } })];
    const store = new MemoryStore({ now: () => now.t });
    const users = new MemoryUserDirectory([{ name: 'amy', passwordHash: await hashPassword('amy-pw'), segments: ['lan'] }]);
    const checks: string[] = [];
    const service = await LoginService.create({
      segments,
      users,
      ipam: new Ipam(segments, store),
      issuer: new TicketIssuer(keys.privateKey, 60, () => now.t, 600),
      nodes: () => [{ node: 'sw-1', host: '127.0.0.1', port: 4443 }],
      limiter: new RateLimiter(store, { perUser: 4, perAddress: 100, perUserTotal: 100, windowSeconds: 300 }),
      remember: { signingKey: () => keys.privateKey, publicKeys: () => [createPublicKey(keys.privateKey)], ttlSeconds: 3600, now: () => now.t },
      onCheck: (m) => checks.push(m),
      deviceKeys: { store, ttlSeconds: 3600 },
    });
    const device = generateKeyPairSync('ed25519');
    const sign = (over: Partial<{ time: number; device: string; key: KeyObject }> = {}) => {
      const f = { user: 'amy', device: over.device ?? 'laptop', segment: 'lan', time: over.time ?? Math.floor(now.t / 1000), nonce: randomBytes(16).toString('base64url') };
      return { ...f, signature: signDeviceLogin(over.key ?? device.privateKey, f) };
    };
    return { service, store, users, device, sign, checks, trusted: [createPublicKey(keys.privateKey)], now };
  }

  it('registers the key at a password login and binds the ticket to it, with the longer device lifetime', async () => {
    const { service, store, device, trusted, now } = await setup();
    const dk = rawDeviceKey(device.publicKey);
    const claims = verifyTicket((await service.login({ user: 'amy', password: 'amy-pw', device: 'laptop', deviceKey: dk })).ticket, trusted, Math.floor(now.t / 1000));
    expect(claims.dk).toBe(dk);
    expect(claims.exp - claims.iat).toBe(600);
    expect(await store.getDeviceKey('amy', 'laptop')).toBe(dk);
    // A wrong password registers nothing.
    await expect(service.login({ user: 'amy', password: 'nope', device: 'phone', deviceKey: dk })).rejects.toMatchObject({ code: 'EL_ERR_AUTH' });
    expect(await store.getDeviceKey('amy', 'phone')).toBeUndefined();
  });

  it('issues a bound ticket for a signature by the registered key, checking no password', async () => {
    const { service, device, sign, checks, trusted, now } = await setup();
    await service.login({ user: 'amy', password: 'amy-pw', device: 'laptop', deviceKey: rawDeviceKey(device.publicKey) });
    const reply = await service.deviceLogin(sign());
    expect(verifyTicket(reply.ticket, trusted, Math.floor(now.t / 1000)).dk).toBe(rawDeviceKey(device.publicKey));
    expect(reply.ipv4).toBeDefined();
    expect(checks).toEqual(['password', 'device_key']);
  });

  it('refuses (401) an unknown device, another key, a time off by more than the skew, a deleted user; failures count against the rate limits', async () => {
    const { service, users, device, sign, now } = await setup();
    await service.login({ user: 'amy', password: 'amy-pw', device: 'laptop', deviceKey: rawDeviceKey(device.publicKey) });
    await expect(service.deviceLogin(sign({ device: 'phone' }))).rejects.toMatchObject({ code: 'EL_ERR_AUTH' });
    await expect(service.deviceLogin(sign({ key: generateKeyPairSync('ed25519').privateKey }))).rejects.toMatchObject({ code: 'EL_ERR_AUTH' });
    await expect(service.deviceLogin(sign({ time: Math.floor(now.t / 1000) - 121 }))).rejects.toMatchObject({ code: 'EL_ERR_AUTH' });
    const amy = (await users.get('amy'))!;
    users.setUsers([]);
    await expect(service.deviceLogin(sign())).rejects.toMatchObject({ code: 'EL_ERR_AUTH' });
    users.setUsers([amy]);
    // Four failures for this user from this (unknown) source met perUser = 4: even a good signature waits now.
    await expect(service.deviceLogin(sign())).rejects.toMatchObject({ code: 'EL_ERR_RATE_LIMITED' });
  });

  it('is refused once the key is revoked', async () => {
    const { service, store, device, sign, now } = await setup();
    await service.login({ user: 'amy', password: 'amy-pw', device: 'laptop', deviceKey: rawDeviceKey(device.publicKey) });
    const at = Math.floor(now.t / 1000);
    expect(await store.revoke({ user: 'amy', at, until: at + 600 })).toBe(1);
    await expect(service.deviceLogin(sign())).rejects.toMatchObject({ code: 'EL_ERR_AUTH' });
  });
});
