/**
 * DtcpService's grant for `tunnelonly` (docs/dtcp.md, "Users, leases and stickiness"): the
 * user's static IPv6 `lan` ranges, not leased; overlaps with what the segment leases or
 * routes elsewhere refused. The reply lines and the data plane are dtcp-server.test.ts's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { segmentSchema, type DtcpTunnelRequest } from '@elink/protocol';
import { digestFor } from './challenge.js';
import { DtcpService } from './dtcp.js';
import { Ipam } from './ipam.js';
import { hashPassword } from './password.js';
import { MemoryStore } from './store/memory-store.js';
import { MemoryUserDirectory, type UserRecord } from './users.js';

const SEG = segmentSchema.parse({
  name: 'v6',
  mode: 'l3',
  ipv6: { pool: 'fd00:e1::/64' },
  delegation: { ipv6: { pool: 'fd00:e1:100::/40', length: 48 } },
  uplink: { tun: 'up0', routes: ['2001:db8:77::/48', '198.51.100.0/24'] },
});
const SECRET = 'site-secret-1';
const CHALLENGE = '0123456789abcdef0123456789abcdef';
let passwordHash = '';
beforeAll(async () => {
  passwordHash = await hashPassword('unused-password');
});

function service(users: Omit<UserRecord, 'passwordHash' | 'segments' | 'digestSecret'>[]): { svc: DtcpService; store: MemoryStore } {
  const store = new MemoryStore();
  const records = users.map((u) => ({ passwordHash, segments: ['v6'], digestSecret: SECRET, ...u }));
  return { svc: new DtcpService({ segments: [SEG], users: new MemoryUserDirectory(records), ipam: new Ipam([SEG], store) }), store };
}

function req(user: string, type: DtcpTunnelRequest['type'] = 'tunnelonly'): DtcpTunnelRequest {
  return { user, challenge: CHALLENGE, digest: digestFor(user, CHALLENGE, SECRET), type, segment: 'v6', source: '198.18.0.7', node: 'n1' };
}

describe('DtcpService: tunnelonly and static ranges', () => {
  it("grants the user's IPv6 lan ranges, normalised and deduplicated, IPv4 ones left out; nothing leased", async () => {
    const { svc, store } = service([{ name: 'site', lan: ['fd00:e1:300::1/48', '192.0.2.0/24', 'FD00:E1:301::/64', 'fd00:e1:300::/48'] }]);
    const grant = await svc.tunnel(req('site'));
    expect(grant).toEqual({ user: 'site', device: 'dtcp', segment: 'v6', type: 'tunnelonly', lan: ['fd00:e1:300::/48', 'fd00:e1:301::/64'] });
    const ipam = new Ipam([SEG], store);
    expect(await ipam.count('v6')).toBe(0);
    // The control case: a host tunnel of the same user does lease.
    await svc.tunnel(req('site', 'host'));
    expect(await ipam.count('v6')).toBe(1);
  });

  it('a user without IPv6 lan ranges gets no lan field (link-local only); host and network ignore lan', async () => {
    const { svc } = service([{ name: 'v4only', lan: ['192.0.2.0/24'] }, { name: 'none' }, { name: 'site', lan: ['fd00:e1:300::/48'] }]);
    expect((await svc.tunnel(req('v4only'))).lan).toBeUndefined();
    expect((await svc.tunnel(req('none'))).lan).toBeUndefined();
    const host = await svc.tunnel(req('site', 'host'));
    expect(host.lan).toBeUndefined();
    expect(host.clientV6).toMatch(/^fd00:e1::/);
    const net = await svc.tunnel(req('site', 'network'));
    expect(net.lan).toBeUndefined();
    expect(net.prefix).toMatch(/^fd00:e1:1[0-9a-f]{2}::\/48$/);
  });

  it("refuses a range overlapping the segment's IPv6 pool, delegation pool or IPv6 uplink routes (EL_ERR_ADDRESS_IN_USE)", async () => {
    const { svc } = service([
      { name: 'pool', lan: ['fd00:e1::8000/113'] },
      { name: 'covering', lan: ['fd00::/16'] },
      { name: 'deleg', lan: ['fd00:e1:1ff::/48'] },
      { name: 'uplink', lan: ['2001:db8:77:5::/64'] },
      { name: 'v4uplink', lan: ['198.51.100.0/25'] },
    ]);
    await expect(svc.tunnel(req('pool'))).rejects.toMatchObject({ code: 'EL_ERR_ADDRESS_IN_USE', message: 'lan range fd00:e1::8000/113 of user "pool" overlaps its IPv6 pool fd00:e1::/64 in segment "v6"; give the user a range outside the segment\'s pools and routes' });
    await expect(svc.tunnel(req('covering'))).rejects.toMatchObject({ code: 'EL_ERR_ADDRESS_IN_USE', message: expect.stringContaining('lan range fd00::/16 of user "covering" overlaps its IPv6 pool fd00:e1::/64') });
    await expect(svc.tunnel(req('deleg'))).rejects.toMatchObject({ code: 'EL_ERR_ADDRESS_IN_USE', message: expect.stringContaining('overlaps its IPv6 delegation pool fd00:e1:100::/40') });
    await expect(svc.tunnel(req('uplink'))).rejects.toMatchObject({ code: 'EL_ERR_ADDRESS_IN_USE', message: expect.stringContaining('overlaps its uplink route 2001:db8:77::/48') });
    // IPv4 ranges are not the tunnel's: no conflict, no lan.
    expect((await svc.tunnel(req('v4uplink'))).lan).toBeUndefined();
  });
});
