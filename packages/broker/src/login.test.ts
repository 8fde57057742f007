import { describe, expect, it } from 'vitest';
import { createPublicKey } from 'node:crypto';
import { generateTicketKeyPair, segmentSchema, verifyTicket } from '@elink/protocol';
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
