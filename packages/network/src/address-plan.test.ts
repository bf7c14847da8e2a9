import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAddressPlan, type SubnetClaim } from './address-plan.ts';
import { cidrsOverlap, parseCidr } from './ipv4.ts';

describe('createAddressPlan', () => {
  it.each([
    {
      cidr: '10.240.0.0/12',
      prefix: 24,
      overlayRange: '10.240.0.0/20',
      firstSlot: 16,
      capacity: 4080,
      subnet: '10.240.16.0/24',
      overlay: '10.240.0.16',
    },
    {
      cidr: '10.0.0.0/16',
      prefix: 24,
      overlayRange: '10.0.0.0/24',
      firstSlot: 1,
      capacity: 255,
      subnet: '10.0.1.0/24',
      overlay: '10.0.0.1',
    },
    {
      cidr: '172.20.0.0/16',
      prefix: 26,
      overlayRange: '172.20.0.0/22',
      firstSlot: 16,
      capacity: 1008,
      subnet: '172.20.4.0/26',
      overlay: '172.20.0.16',
    },
    {
      cidr: '192.168.0.0/23',
      prefix: 24,
      overlayRange: '192.168.0.0/31',
      firstSlot: 1,
      capacity: 1,
      subnet: '192.168.1.0/24',
      overlay: '192.168.0.1',
    },
  ])('$cidr cut into /$prefix', ({ cidr, prefix, overlayRange, firstSlot, capacity, subnet, overlay }) => {
    const plan = createAddressPlan({ cidr, subnetPrefix: prefix });
    expect(plan).toMatchObject({ cidr, subnetPrefix: prefix, overlayRange, firstSlot, capacity });
    expect(plan.addressesOf(firstSlot)).toEqual({ slot: firstSlot, subnet, overlayAddress: overlay });
  });

  it.each([
    ['not a cidr', undefined, /not an IPv4 CIDR/],
    ['10.240.0.1/12', undefined, /host bits set; the network is 10.240.0.0\/12/],
    ['10.240.0.0/12', 12, /must be longer than the cluster's \/12/],
    ['10.240.0.0/12', 31, /at most \/30/],
    ['300.0.0.0/8', undefined, /not an IPv4 address/],
  ])('refuses %s with subnets of /%s', (cidr, subnetPrefix, message) => {
    expect(() =>
      createAddressPlan({ cidr, ...(subnetPrefix === undefined ? {} : { subnetPrefix }) }),
    ).toThrow(message);
    expect(() =>
      createAddressPlan({ cidr, ...(subnetPrefix === undefined ? {} : { subnetPrefix }) }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });

  it('keeps the overlay range apart from every allocatable subnet', () => {
    const plan = createAddressPlan();
    const overlay = parseCidr(plan.overlayRange);
    expect(cidrsOverlap(overlay, parseCidr(plan.addressesOf(plan.firstSlot).subnet))).toBe(false);
    expect(
      cidrsOverlap(overlay, parseCidr(plan.addressesOf(plan.firstSlot - 1 + plan.capacity).subnet)),
    ).toBe(false);
    expect(() => plan.addressesOf(plan.firstSlot - 1)).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
    expect(plan.slotOf('10.240.0.0/24')).toBeUndefined();
    expect(plan.slotOf('10.240.17.0/24')).toBe(17);
    expect(plan.slotOf('10.240.17.0/25')).toBeUndefined();
    expect(plan.slotOf('10.1.0.0/24')).toBeUndefined();
  });
});

describe('AddressPlan.allocate', () => {
  const plan = createAddressPlan({ cidr: '10.0.0.0/16' });
  // Two ids whose preferred slots collide, found once and pinned here.
  const [low, high] = collidingIds(plan);

  it('gives a lone peer its preferred slot', () => {
    const got = plan.allocate([{ id: 'peer-a' }]);
    expect(got.get('peer-a')?.slot).toBe(plan.preferredSlot('peer-a'));
  });

  it('two peers joining at once with the same preferred slot: the lower id keeps it, the other takes the next', () => {
    const joinedAt = '2026-01-01T00:00:00.000Z';
    const preferred = plan.preferredSlot(low);
    const wanted = plan.addressesOf(preferred).subnet;
    // Both claimed the same subnet before seeing each other's record.
    const claims = [
      { id: high, joinedAt, subnet: wanted },
      { id: low, joinedAt, subnet: wanted },
    ];
    const got = plan.allocate(claims);
    expect(got.get(low)?.subnet).toBe(wanted);
    expect(got.get(high)?.slot).toBe(preferred + 1 >= 256 ? plan.firstSlot : preferred + 1);
  });

  it('an established peer keeps its subnet when a newcomer with a lower id prefers it', () => {
    const preferred = plan.preferredSlot(low);
    const claims = [
      { id: high, joinedAt: '2026-01-01T00:00:00.000Z', subnet: plan.addressesOf(preferred).subnet },
      { id: low, joinedAt: '2026-01-02T00:00:00.000Z' },
    ];
    const got = plan.allocate(claims);
    expect(got.get(high)?.slot).toBe(preferred);
    expect(got.get(low)?.slot).not.toBe(preferred);
  });

  it('wraps around to the first slot when the preferred one is the last and taken', () => {
    const small = createAddressPlan({ cidr: '10.0.0.0/22', subnetPrefix: 24 });
    const ids = Array.from({ length: 50 }, (_, i) => `p${i}`);
    const lastPreferring = ids.filter((id) => small.preferredSlot(id) === 3);
    expect(lastPreferring.length).toBeGreaterThanOrEqual(2);
    const got = small.allocate(lastPreferring.slice(0, 2).map((id) => ({ id })));
    expect([...got.values()].map((a) => a.slot).sort()).toEqual([1, 3]);
  });

  it('ignores claims outside the plan and leaves out peers beyond its capacity', () => {
    const tiny = createAddressPlan({ cidr: '192.168.0.0/23', subnetPrefix: 24 });
    const got = tiny.allocate([
      { id: 'b', subnet: '10.9.9.0/24' },
      { id: 'a', subnet: '192.168.1.0/24' },
    ]);
    expect([...got.keys()]).toEqual(['a']);
  });

  it('refuses a joiner when every subnet is taken, naming the CIDR and how many peers it holds', () => {
    const small = createAddressPlan({ cidr: '10.9.0.0/22', subnetPrefix: 24 });
    expect(small.capacity).toBe(3);
    expect(() => small.assertRoomFor(['a', 'b'], { id: 'c', name: 'host-c' })).not.toThrow();
    // A peer already in the cluster (a rejoin) keeps its place.
    expect(() => small.assertRoomFor(['a', 'b', 'c'], { id: 'c', name: 'host-c' })).not.toThrow();
    let refused: unknown;
    try {
      small.assertRoomFor(['a', 'b', 'c'], { id: 'd', name: 'host-d' });
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({
      code: 'MESH_ADDRESSES_EXHAUSTED',
      details: { cidr: '10.9.0.0/22', capacity: 3, peers: 3, joiner: 'host-d' },
    });
    expect((refused as Error).message).toContain('10.9.0.0/22 has room for 3 peers of /24 and holds 3');
  });

  const claimArb = fc.record({
    id: fc.string({ minLength: 1, maxLength: 6 }),
    joinedAt: fc.option(fc.constantFrom('2026-01-01', '2026-01-02', '2026-01-03'), { nil: undefined }),
    subnet: fc.option(
      fc.integer({ min: 0, max: 255 }).map((n) => `10.0.${n}.0/24`),
      { nil: undefined },
    ),
  });

  it('every peer computes the same plan from the same records, whatever their order, without overlaps', () => {
    fc.assert(
      fc.property(fc.array(claimArb, { maxLength: 40 }), fc.integer(), (claims, seed) => {
        const unique = [...new Map(claims.map((c) => [c.id, c])).values()];
        const shuffled = shuffle(unique, seed);
        const a = plan.allocate(unique);
        const b = plan.allocate(shuffled);
        expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
        expect(a.size).toBe(Math.min(unique.length, plan.capacity));
        const subnets = [...a.values()].map((x) => x.subnet);
        expect(new Set(subnets).size).toBe(subnets.length);
        const overlays = [...a.values()].map((x) => x.overlayAddress);
        expect(new Set(overlays).size).toBe(overlays.length);
      }),
    );
  });

  it('converges: peers that rewrite their claim to their assignment are then all stable', () => {
    fc.assert(
      fc.property(fc.array(claimArb, { maxLength: 40 }), (claims) => {
        const first = plan.allocate(claims);
        const rewritten: SubnetClaim[] = [...new Map(claims.map((c) => [c.id, c])).values()].map((c) => ({
          ...c,
          subnet: first.get(c.id)?.subnet,
        }));
        const second = plan.allocate(rewritten);
        for (const claim of rewritten) expect(second.get(claim.id)?.subnet).toBe(claim.subnet);
      }),
    );
  });
});

function collidingIds(plan: ReturnType<typeof createAddressPlan>): [string, string] {
  const seen = new Map<number, string>();
  for (let i = 0; ; i += 1) {
    const id = `peer-${i}`;
    const slot = plan.preferredSlot(id);
    const other = seen.get(slot);
    if (other !== undefined) return other < id ? [other, id] : [id, other];
    seen.set(slot, id);
  }
}

function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i -= 1) {
    state = (state * 1103515245 + 12345) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
