import { describe, expect, it } from 'vitest';
import type { PeerRecord } from '@monk/model';
import { createAddressPlan } from '@monk/network';
import { meshRecordOf, underlayHostOf } from './mesh-record.ts';

const peer = (id: string, joinedAt: string, subnet?: string): PeerRecord => ({
  id,
  name: id,
  role: 'peer',
  tags: [],
  addresses: [],
  joinedAt,
  ...(subnet === undefined
    ? {}
    : { wireguard: { publicKey: `${id}-key`, overlayAddress: '10.0.0.1', subnet } }),
});

describe('meshRecordOf', () => {
  const meshCidr = '10.0.0.0/16';
  const plan = createAddressPlan({ cidr: meshCidr });
  const at = '2026-12-02T10:00:00.000Z';

  it('claims the preferred subnet of a peer alone in the cluster', () => {
    const record = meshRecordOf({
      self: 'a',
      joinedAt: at,
      peers: [peer('a', at)],
      meshCidr,
      publicKey: 'KEY',
      endpoint: '192.168.50.2:51820',
    });
    const { subnet, overlayAddress } = plan.addressesOf(plan.preferredSlot('a'));
    expect(record).toEqual({ publicKey: 'KEY', endpoint: '192.168.50.2:51820', subnet, overlayAddress });
  });

  it('two peers that joined at once and claimed the same subnet end on different ones, agreeing which moves', () => {
    const taken = plan.addressesOf(plan.preferredSlot('a')).subnet;
    // Both records claim `taken`: each peer computed it before it saw the other.
    const peers = [peer('a', at, taken), peer('b', at, taken)];
    const ofA = meshRecordOf({
      self: 'a',
      joinedAt: at,
      peers,
      meshCidr,
      publicKey: 'A',
      endpoint: undefined,
    });
    const ofB = meshRecordOf({
      self: 'b',
      joinedAt: at,
      peers,
      meshCidr,
      publicKey: 'B',
      endpoint: undefined,
    });
    expect(ofA?.subnet).toBe(taken);
    expect(ofB?.subnet).not.toBe(taken);
    expect(ofB?.overlayAddress).not.toBe(ofA?.overlayAddress);
  });

  it('uses the default cluster CIDR for a cluster created before it had one', () => {
    const record = meshRecordOf({
      self: 'a',
      joinedAt: at,
      peers: [],
      meshCidr: undefined,
      publicKey: 'KEY',
      endpoint: undefined,
    });
    expect(record?.subnet).toMatch(/^10\.(24\d|25[0-5])\.\d+\.0\/24$/);
  });
});

describe('underlayHostOf', () => {
  it.each([
    [['/ip4/127.0.0.1/tcp/44001/p2p/X', '/ip4/192.168.50.2/tcp/44001/p2p/X'], '192.168.50.2'],
    [['/ip4/127.0.0.1/tcp/44001/p2p/X'], '127.0.0.1'],
    [['/ip6/::1/tcp/44001/p2p/X'], undefined],
  ])('%j → %s', (addresses, expected) => {
    expect(underlayHostOf(addresses)).toBe(expected);
  });
});
