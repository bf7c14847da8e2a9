import { describe, expect, it } from 'vitest';
import type { PeerRecord } from '@monk/model';
import { createAddressPlan } from '@monk/network';
import { MonkError } from '@monk/model';
import { assertMeshRoom, meshForEngine, meshRecordOf, underlayHostOf } from './mesh-record.ts';

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

describe('meshForEngine', () => {
  const asked = { listenPort: 51820, tunnels: true };
  const byDefault = { ...asked, byDefault: true };
  const check = async (
    mesh: typeof asked | undefined,
    containers: () => Promise<Array<Record<string, string>>>,
  ) => {
    const lines: string[] = [];
    const result = await meshForEngine(mesh, {
      peerId: 'me',
      managedContainerLabels: containers,
      logger: { info: (line) => lines.push(line) },
    });
    return { result, lines };
  };

  it('keeps a mesh on by default on an engine with no other peer’s containers', async () => {
    const own = await check(byDefault, async () => [{ 'monk.peer': 'me' }, {}]);
    expect(own).toEqual({ result: byDefault, lines: [] });
  });

  it('turns a mesh on by default off on a shared engine, or one that does not answer, and says why', async () => {
    const shared = await check(byDefault, async () => [{ 'monk.peer': 'me' }, { 'monk.peer': 'other' }]);
    expect(shared.result).toBeUndefined();
    expect(shared.lines.join()).toContain('containers of 1 other monk peer(s)');
    const down = await check(byDefault, async () => {
      throw new MonkError('RUNTIME_UNAVAILABLE', 'no engine at /var/run/docker.sock');
    });
    expect(down.result).toBeUndefined();
    expect(down.lines.join()).toContain('no engine at /var/run/docker.sock');
  });

  it('leaves a mesh that was asked for, or none, as it is', async () => {
    const shared = async () => [{ 'monk.peer': 'other' }];
    expect((await check(asked, shared)).result).toEqual(asked);
    expect((await check(undefined, shared)).result).toBeUndefined();
  });
});

describe('assertMeshRoom', () => {
  it('counts peers, not operators, against the plan and refuses the one that does not fit', () => {
    const operator: PeerRecord = { ...peer('op', '2026-01-01'), role: 'operator' };
    const peers = [peer('a', '2026-01-01'), peer('b', '2026-01-02'), operator];
    const room = (joiner: string, meshCidr = '10.9.0.0/22') =>
      assertMeshRoom({ meshCidr, peers, joiner: { id: joiner, name: `host-${joiner}` } });
    expect(() => room('c')).not.toThrow();
    expect(() => room('c', '10.9.0.0/23')).toThrow(
      expect.objectContaining({ code: 'MESH_ADDRESSES_EXHAUSTED' }) as Error,
    );
    expect(() => room('c', '10.9.0.0/23')).toThrow(
      /10\.9\.0\.0\/23 has room for 1 peers of \/24 and holds 2/,
    );
  });
});
