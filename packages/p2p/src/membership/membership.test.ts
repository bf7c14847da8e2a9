import { afterEach, describe, expect, it } from 'vitest';
import { MonkError } from '@monk/model';
import { encodeMembershipMessage } from './membership-codec.ts';
import { createMembership, defaultMembershipProtocol, type MemberState } from './membership.ts';
import { createSimCluster, createSimNetwork, type SimCluster } from './test-sim.ts';

const clusters: SimCluster[] = [];

function cluster(options: Parameters<typeof createSimCluster>[0]): SimCluster {
  const created = createSimCluster(options);
  clusters.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(clusters.splice(0).map((created) => created.stopAll()));
});

function everyone(ids: readonly string[], state: MemberState): Record<string, MemberState> {
  return Object.fromEntries(ids.map((id) => [id, state]));
}

/** A started cluster where every member sees every member alive. */
async function converged(options: Parameters<typeof createSimCluster>[0]): Promise<SimCluster> {
  const created = cluster(options);
  await created.joinAll();
  const ok = await created.net.clock.advanceUntil(() => created.allSee(everyone(created.ids, 'alive')), {
    maxMs: 30_000,
  });
  expect(ok, `seed ${options.seed}: ${options.size} members did not converge to all-alive`).toBe(true);
  return created;
}

/** Records every state any member ever reports about any member. */
function recordDeaths(created: SimCluster): { readonly dead: string[] } {
  const record = { dead: [] as string[] };
  for (const id of created.ids) {
    created.node(id).onChange((member) => {
      if (member.state === 'dead') record.dead.push(`${id} saw ${member.id} dead`);
    });
  }
  return record;
}

describe('membership (simulated network, virtual time)', () => {
  it.each([5, 12, 20])('converges to all-alive after %i members join one seed', async (size) => {
    for (const seed of [1, 2, 3]) {
      const created = await converged({ seed, size });
      const view = created.node(created.ids[size - 1] ?? '').members();
      expect(view.map((member) => member.id)).toEqual(created.ids);
      expect(view.map((member) => member.meta['name'])).toEqual(created.ids);
    }
  });

  it.each([
    [5, 40],
    [10, 20],
    [20, 20],
  ])(
    'marks a killed member dead at every other member within 5 s (%i members, %i seeds)',
    async (size, runs) => {
      for (let seed = 100; seed < 100 + runs; seed += 1) {
        const created = await converged({ seed, size });
        const { net, ids } = created;
        await net.clock.advance(Math.floor(net.random() * 5_000));
        const victim = ids[1 + Math.floor(net.random() * (size - 1))] ?? '';
        const deaths = recordDeaths(created);
        const killedAt = net.clock.now();
        await created.kill(victim);
        const detected = await net.clock.advanceUntil(() => created.allSee({ [victim]: 'dead' }), {
          maxMs: 5_000,
          stepMs: 10,
        });
        expect(detected, `seed ${seed}: ${victim} not dead everywhere 5 s after the kill`).toBe(true);
        expect(net.clock.now() - killedAt).toBeLessThanOrEqual(5_000);
        expect(
          deaths.dead.filter((line) => !line.endsWith(`${victim} dead`)),
          `seed ${seed}`,
        ).toEqual([]);
        await created.stopAll();
      }
    },
  );

  it('declares nobody dead over 5 minutes of 10 % loss on every link (10 members, 3 seeds)', async () => {
    for (const seed of [7, 8, 9]) {
      const created = await converged({ seed, size: 10 });
      const deaths = recordDeaths(created);
      created.net.setLossRate(0.1);
      await created.net.clock.advance(5 * 60_000);
      expect(deaths.dead, `seed ${seed}`).toEqual([]);
      expect(created.allSee(everyone(created.ids, 'alive')), `seed ${seed}`).toBe(true);
      await created.stopAll();
    }
  });

  it('lets a wrongly suspected member refute with a higher incarnation', async () => {
    const seed = 21;
    const created = await converged({ seed, size: 6 });
    const { net } = created;
    const seen: string[] = [];
    created.node('peer-01').onChange((member, previous) => {
      if (member.id === 'peer-02') seen.push(`${previous ?? 'new'}→${member.state}@${member.incarnation}`);
    });
    // An accusation out of nowhere: peer-02 is healthy.
    const accusation = encodeMembershipMessage({
      v: 1,
      type: 'gossip',
      updates: [{ kind: 'suspect', id: 'peer-02', incarnation: 0, from: 'peer-05' }],
    });
    await net.clock.run(net.transport('peer-05').request('peer-01', defaultMembershipProtocol, accusation));
    expect(seen, `seed ${seed}`).toEqual(['alive→suspect@0']);
    await net.clock.advance(10_000);
    expect(seen, `seed ${seed}`).toEqual(['alive→suspect@0', 'suspect→alive@1']);
    expect(created.allSee(everyone(created.ids, 'alive')), `seed ${seed}`).toBe(true);
    for (const id of created.ids) {
      const member = created
        .node(id)
        .members()
        .find((candidate) => candidate.id === 'peer-02');
      expect(member?.incarnation, `seed ${seed}, view of ${id}`).toBe(1);
    }
  });

  it('shows a member that leaves as left, never dead', async () => {
    const seed = 31;
    const created = await converged({ seed, size: 8 });
    const deaths = recordDeaths(created);
    await created.net.clock.run(created.node('peer-04').leave());
    const others = created.ids.filter((id) => id !== 'peer-04');
    const everywhere = (): boolean => others.every((id) => created.stateOf(id, 'peer-04') === 'left');
    expect(everywhere(), `seed ${seed}`).toBe(true);
    expect(created.stateOf('peer-04', 'peer-04')).toBe('left');
    await created.net.clock.advance(60_000);
    expect(everywhere(), `seed ${seed}`).toBe(true);
    expect(deaths.dead, `seed ${seed}`).toEqual([]);
  });

  it('converges again after a partition heals', async () => {
    for (const seed of [41, 42, 43]) {
      const created = await converged({ seed, size: 10 });
      const { net, ids } = created;
      const sideA = ids.slice(0, 5);
      const sideB = ids.slice(5);
      net.partition(sideA, sideB);
      const split = await net.clock.advanceUntil(
        () =>
          sideA.every((a) => sideB.every((b) => created.stateOf(a, b) === 'dead')) &&
          sideB.every((b) => sideA.every((a) => created.stateOf(b, a) === 'dead')),
        { maxMs: 30_000 },
      );
      expect(split, `seed ${seed}: the two sides did not declare each other dead`).toBe(true);
      net.heal();
      const healed = await net.clock.advanceUntil(() => created.allSee(everyone(ids, 'alive')), {
        maxMs: 120_000,
      });
      expect(healed, `seed ${seed}: states did not converge after the partition healed`).toBe(true);
      await created.stopAll();
    }
  });

  it('sees an isolated member alive again within 2 s of a 30 s partition healing', async () => {
    for (const seed of [61, 62, 63, 64, 65]) {
      const created = await converged({ seed, size: 3 });
      const { net, ids } = created;
      const isolated = ids.slice(2);
      const majority = ids.slice(0, 2);
      net.partition(majority, isolated);
      await net.clock.advance(30_000);
      expect(created.stateOf(majority[0]!, isolated[0]!), `seed ${seed}`).toBe('dead');
      net.heal();
      const healed = await net.clock.advanceUntil(() => created.allSee(everyone(ids, 'alive')), {
        maxMs: 2_000,
      });
      expect(healed, `seed ${seed}: not every member alive everywhere 2 s after the heal`).toBe(true);
      await created.stopAll();
    }
  });

  it('brings a restarted member back as alive with a new incarnation', async () => {
    const seed = 51;
    const created = await converged({ seed, size: 8 });
    const { net } = created;
    await created.kill('peer-03');
    expect(await net.clock.advanceUntil(() => created.allSee({ 'peer-03': 'dead' }), { maxMs: 10_000 })).toBe(
      true,
    );
    await created.restart('peer-03', 'peer-00');
    const back = await net.clock.advanceUntil(() => created.allSee(everyone(created.ids, 'alive')), {
      maxMs: 30_000,
    });
    expect(back, `seed ${seed}: the restarted member is not alive everywhere`).toBe(true);
    for (const id of created.ids) {
      const member = created
        .node(id)
        .members()
        .find((candidate) => candidate.id === 'peer-03');
      expect(member?.incarnation, `seed ${seed}, view of ${id}`).toBeGreaterThan(0);
    }
  });

  it('disseminates meta changes', async () => {
    const created = await converged({ seed: 61, size: 7 });
    created.node('peer-06').setMeta({ name: 'renamed', zone: 'b' });
    const spread = await created.net.clock.advanceUntil(
      () =>
        created.ids.every(
          (id) =>
            created
              .node(id)
              .members()
              .find((member) => member.id === 'peer-06')?.meta['zone'] === 'b',
        ),
      { maxMs: 5_000 },
    );
    expect(spread, 'seed 61').toBe(true);
  });

  it('forgets a removed member and refuses to remove itself', async () => {
    const created = await converged({ seed: 71, size: 5 });
    await created.kill('peer-04');
    await created.net.clock.advanceUntil(() => created.allSee({ 'peer-04': 'dead' }), { maxMs: 10_000 });
    created.node('peer-00').remove('peer-04');
    expect(created.stateOf('peer-00', 'peer-04')).toBeUndefined();
    expect(created.stateOf('peer-01', 'peer-04')).toBe('dead');
    expect(() => created.node('peer-00').remove('peer-00')).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST' }),
    );
  });

  it('rejects a join when no seed answers', async () => {
    const net = createSimNetwork({ seed: 81, defaultTimeoutMs: 1_000 });
    const membership = createMembership({
      transport: net.transport('lonely'),
      timers: net.clock,
      random: net.random,
    });
    try {
      await expect(net.clock.run(membership.join(['nobody-1', 'nobody-2']))).rejects.toMatchObject({
        code: 'PEER_UNREACHABLE',
      });
      await expect(net.clock.run(membership.join([]))).resolves.toBeUndefined();
    } finally {
      await net.clock.run(membership.stop());
    }
  });

  it('drops malformed messages with a logged reason and keeps working', async () => {
    const net = createSimNetwork({ seed: 91 });
    const warnings: string[] = [];
    const logger = {
      debug: () => {},
      warn: (message: string, fields?: Readonly<Record<string, unknown>>) => {
        warnings.push(`${message}: ${String(fields?.['reason'] ?? fields?.['type'])}`);
      },
    };
    const membership = createMembership({ transport: net.transport('target'), timers: net.clock, logger });
    membership.start();
    const attacker = net.transport('attacker');
    const send = (bytes: Uint8Array): Promise<Uint8Array> =>
      net.clock.run(attacker.request('target', defaultMembershipProtocol, bytes));
    const text = (value: string): Uint8Array => new TextEncoder().encode(value);
    try {
      for (const bytes of [
        new Uint8Array([0xff, 0xfe, 0x00]),
        text('{"v":2,"type":"ping","target":"target","updates":[]}'),
        text('{"v":1,"type":"ping","target":42,"updates":[]}'),
        text('{"v":1,"type":"gossip","updates":[{"kind":"alive","id":"x","incarnation":-1,"meta":{}}]}'),
        text('{"v":1,"type":"ack","updates":[]}'),
        text('[]'),
      ]) {
        await expect(send(bytes)).rejects.toBeInstanceOf(MonkError);
      }
      expect(warnings).toHaveLength(6);
      expect(warnings[1]).toContain('unsupported wire version 2');
      expect(warnings[2]).toContain('target');
      const ack = await send(
        encodeMembershipMessage({
          v: 1,
          type: 'ping',
          target: 'target',
          updates: [{ kind: 'alive', id: 'attacker', incarnation: 0, meta: {} }],
        }),
      );
      expect(new TextDecoder().decode(ack)).toContain('"type":"ack"');
      expect(membership.members().map((member) => member.id)).toEqual(['attacker', 'target']);
    } finally {
      await net.clock.run(membership.stop());
    }
  });

  it('isolates a throwing listener and supports unsubscribing', async () => {
    const created = cluster({ seed: 95, size: 3 });
    const seen: string[] = [];
    created.node('peer-00').onChange(() => {
      throw new Error('listener bug');
    });
    const unsubscribe = created.node('peer-00').onChange((member, previous) => {
      seen.push(`${member.id}:${previous ?? 'new'}→${member.state}`);
    });
    await created.joinAll();
    await created.net.clock.advanceUntil(() => created.allSee(everyone(created.ids, 'alive')), {
      maxMs: 10_000,
    });
    expect(seen.sort()).toEqual(['peer-01:new→alive', 'peer-02:new→alive']);
    unsubscribe();
    await created.kill('peer-02');
    await created.net.clock.advance(10_000);
    expect(created.stateOf('peer-00', 'peer-02')).toBe('dead');
    expect(seen).toHaveLength(2);
  });
});
