import { createPrng, MonkError } from '@monk/model';
export { createPrng };
import type { MembershipConfig } from './membership-config.ts';
import type {
  MembershipRequestContext,
  MembershipRequestOptions,
  MembershipTransport,
} from './membership-transport.ts';
import { createMembership, type MemberState, type Membership } from './membership.ts';
import type { Timers } from './timers.ts';

/** Virtual time: timers fire only when the test advances the clock; promise chains settle between timers. */
export interface VirtualClock extends Timers {
  /** Advances time by `ms`, firing every due timer in order. */
  advance(ms: number): Promise<void>;
  /** Advances in `stepMs` steps until `predicate` holds or `maxMs` passed; returns whether it held. */
  advanceUntil(
    predicate: () => boolean,
    options: { readonly maxMs: number; readonly stepMs?: number },
  ): Promise<boolean>;
  /** Advances time until `promise` settles (at most `maxMs`, default 60 s) and returns its outcome. */
  run<T>(promise: Promise<T>, maxMs?: number): Promise<T>;
}

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Creates a virtual clock starting at `start` ms. */
export function createVirtualClock(start = 0): VirtualClock {
  let now = start;
  let seq = 0;
  // A binary min-heap ordered by (at, seq): equal deadlines fire in the order they were set.
  const heap: Timer[] = [];
  const before = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);
  // Only called with in-bounds indices.
  const get = (i: number): Timer => heap[i] as Timer;
  const swap = (i: number, j: number): void => {
    const a = get(i);
    heap[i] = get(j);
    heap[j] = a;
  };
  const push = (timer: Timer): void => {
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0 && before(get(i), get((i - 1) >> 1))) {
      swap(i, (i - 1) >> 1);
      i = (i - 1) >> 1;
    }
  };
  const pop = (): void => {
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      let smallest = i;
      if (l < heap.length && before(get(l), get(smallest))) smallest = l;
      if (l + 1 < heap.length && before(get(l + 1), get(smallest))) smallest = l + 1;
      if (smallest === i) return;
      swap(i, smallest);
      i = smallest;
    }
  };

  const clock: VirtualClock = {
    now: () => now,
    setTimeout(fn, ms) {
      seq += 1;
      const timer: Timer = { at: now + Math.max(0, ms), seq, fn, cancelled: false };
      push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
    async advance(ms) {
      const end = now + ms;
      await settle();
      for (;;) {
        const next = heap[0];
        if (next === undefined || next.at > end) break;
        pop();
        if (next.cancelled) continue;
        now = next.at;
        next.fn();
        await settle();
      }
      now = end;
    },
    async advanceUntil(predicate, options) {
      const step = options.stepMs ?? 50;
      const end = now + options.maxMs;
      while (now < end) {
        if (predicate()) return true;
        await clock.advance(Math.min(step, end - now));
      }
      return predicate();
    },
    async run<T>(promise: Promise<T>, maxMs = 60_000): Promise<T> {
      let settled = false;
      const observed = promise.finally(() => {
        settled = true;
      });
      observed.catch(() => {});
      await clock.advanceUntil(() => settled, { maxMs, stepMs: 1 });
      if (!settled) throw new MonkError('TIMEOUT', `virtual clock: promise still pending after ${maxMs} ms`);
      return observed;
    },
  };
  return clock;
}

/** Knobs of the simulated network. */
export interface SimNetworkOptions {
  readonly seed: number;
  /** Probability that any one message (request or response) is lost. */
  readonly lossRate?: number;
  /** One-way latency is uniform in [minLatencyMs, maxLatencyMs]. */
  readonly minLatencyMs?: number;
  readonly maxLatencyMs?: number;
  /** Timeout of requests that pass none (a real transport has one too). */
  readonly defaultTimeoutMs?: number;
}

/** A simulated network of {@link MembershipTransport}s in virtual time, with loss, partitions and kills. */
export interface SimNetwork {
  readonly clock: VirtualClock;
  /** The network's seeded PRNG; pass it to memberships for a fully deterministic run. */
  readonly random: () => number;
  /** A transport for `peerId` (a second call for the same id is the same peer, e.g. after a restart). */
  transport(peerId: string): MembershipTransport;
  /** Every message to or from `peerId` is lost from now on (a crash, as seen from the network). */
  kill(peerId: string): void;
  revive(peerId: string): void;
  setLossRate(rate: number): void;
  /** Messages between the two groups are lost until {@link SimNetwork.heal}. */
  partition(groupA: readonly string[], groupB: readonly string[]): void;
  heal(): void;
  /** Messages sent by `peerId` so far (requests and responses, lost ones included). */
  sentBy(peerId: string): number;
}

type Handler = (request: Uint8Array, context: MembershipRequestContext) => Promise<Uint8Array>;

/** Creates a simulated network; see {@link SimNetwork}. */
export function createSimNetwork(options: SimNetworkOptions): SimNetwork {
  const clock = createVirtualClock();
  const random = createPrng(options.seed);
  const minLatency = options.minLatencyMs ?? 0.2;
  const maxLatency = options.maxLatencyMs ?? 2;
  const defaultTimeout = options.defaultTimeoutMs ?? 10_000;
  let lossRate = options.lossRate ?? 0;
  const handlers = new Map<string, Map<string, Handler>>();
  const killed = new Set<string>();
  const blocked = new Set<string>();
  const sent = new Map<string, number>();

  const link = (a: string, b: string): string => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);
  const latency = (): number => minLatency + random() * (maxLatency - minLatency);
  const count = (peerId: string): void => {
    sent.set(peerId, (sent.get(peerId) ?? 0) + 1);
  };
  /** Whether a message from → to is delivered (decided when it is sent). */
  const delivered = (from: string, to: string): boolean =>
    !killed.has(from) && !killed.has(to) && !blocked.has(link(from, to)) && random() >= lossRate;

  function request(call: {
    readonly from: string;
    readonly to: string;
    readonly protocol: string;
    readonly message: Uint8Array;
    readonly options: MembershipRequestOptions | undefined;
  }): Promise<Uint8Array> {
    const { from, to, protocol, message } = call;
    const requestOptions = call.options;
    return new Promise<Uint8Array>((resolve, reject) => {
      let settled = false;
      const cancels: (() => void)[] = [];
      const finish = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        for (const cancel of cancels) cancel();
        outcome();
      };
      const signal = requestOptions?.signal;
      if (signal?.aborted === true) {
        reject(new MonkError('CANCELLED', `request to ${to} cancelled`));
        return;
      }
      const onAbort = (): void =>
        finish(() => reject(new MonkError('CANCELLED', `request to ${to} cancelled`)));
      signal?.addEventListener('abort', onAbort, { once: true });
      cancels.push(() => signal?.removeEventListener('abort', onAbort));
      const timeoutMs = requestOptions?.timeoutMs ?? defaultTimeout;
      cancels.push(
        clock.setTimeout(
          () =>
            finish(() =>
              reject(new MonkError('TIMEOUT', `request to ${to} timed out after ${timeoutMs} ms`)),
            ),
          timeoutMs,
        ),
      );

      count(from);
      if (!delivered(from, to)) return;
      const copy = message.slice();
      cancels.push(
        clock.setTimeout(() => {
          const handler = handlers.get(to)?.get(protocol);
          if (handler === undefined || killed.has(to)) return;
          Promise.resolve()
            .then(() => handler(copy, { from, protocol }))
            .then(
              (response) => {
                count(to);
                if (!delivered(to, from)) return;
                const responseCopy = response.slice();
                clock.setTimeout(() => finish(() => resolve(responseCopy)), latency());
              },
              (error: unknown) => {
                count(to);
                if (!delivered(to, from)) return;
                const failure = error instanceof Error ? error : new MonkError('INTERNAL', String(error));
                clock.setTimeout(() => finish(() => reject(failure)), latency());
              },
            );
        }, latency()),
      );
    });
  }

  return {
    clock,
    random,
    transport(peerId) {
      return {
        peerId,
        request: (...[to, protocol, message, options]: Parameters<MembershipTransport['request']>) =>
          request({ from: peerId, to, protocol, message, options }),
        handle(protocol, handler) {
          const own = handlers.get(peerId) ?? new Map<string, Handler>();
          own.set(protocol, handler);
          handlers.set(peerId, own);
        },
      };
    },
    kill(peerId) {
      killed.add(peerId);
    },
    revive(peerId) {
      killed.delete(peerId);
    },
    setLossRate(rate) {
      lossRate = rate;
    },
    partition(groupA, groupB) {
      for (const a of groupA) for (const b of groupB) blocked.add(link(a, b));
    },
    heal() {
      blocked.clear();
    },
    sentBy(peerId) {
      return sent.get(peerId) ?? 0;
    },
  };
}

/** A cluster of memberships on one {@link SimNetwork}, for tests and the benchmark. */
export interface SimCluster {
  readonly net: SimNetwork;
  readonly ids: readonly string[];
  /** The current membership of `id` (a restart replaces it). */
  node(id: string): Membership;
  /** Starts every member and joins each to the first one. */
  joinAll(): Promise<void>;
  /** Crashes `id`: its traffic is lost and its membership stops without telling anyone. */
  kill(id: string): Promise<void>;
  /** Brings `id` back as a fresh process (new membership, incarnation from zero) that joins `seed`. */
  restart(id: string, seed: string): Promise<void>;
  /** The state of `target` in the view of `observer`. */
  stateOf(observer: string, target: string): MemberState | undefined;
  /** True when every running member sees every member of `expected` in the given state. */
  allSee(expected: Readonly<Record<string, MemberState>>): boolean;
  /** Members that are running (not killed, not stopped). */
  running(): string[];
  stopAll(): Promise<void>;
}

/** Creates `size` members named `peer-00`, `peer-01`, ... on a fresh simulated network. */
export function createSimCluster(options: {
  readonly seed: number;
  readonly size: number;
  readonly config?: Partial<MembershipConfig>;
  readonly network?: Omit<SimNetworkOptions, 'seed'>;
}): SimCluster {
  const net = createSimNetwork({ seed: options.seed, ...options.network });
  const ids = Array.from({ length: options.size }, (_, i) => `peer-${String(i).padStart(2, '0')}`);
  const nodes = new Map<string, Membership>();
  const down = new Set<string>();
  const make = (id: string): Membership =>
    createMembership({
      transport: net.transport(id),
      timers: net.clock,
      random: net.random,
      meta: { name: id },
      ...(options.config === undefined ? {} : { config: options.config }),
    });
  for (const id of ids) nodes.set(id, make(id));
  const node = (id: string): Membership => {
    const found = nodes.get(id);
    if (found === undefined) throw new MonkError('PEER_NOT_FOUND', `no simulated member ${id}`);
    return found;
  };
  const cluster: SimCluster = {
    net,
    ids,
    node,
    async joinAll() {
      const [first] = ids;
      if (first === undefined) return;
      for (const id of ids) node(id).start();
      await net.clock.run(Promise.all(ids.map((id) => node(id).join([first]))));
    },
    async kill(id) {
      net.kill(id);
      down.add(id);
      await net.clock.run(node(id).stop());
    },
    async restart(id, seed) {
      net.revive(id);
      down.delete(id);
      const fresh = make(id);
      nodes.set(id, fresh);
      await net.clock.run(fresh.join([seed]));
    },
    stateOf(observer, target) {
      return node(observer)
        .members()
        .find((member) => member.id === target)?.state;
    },
    allSee(expected) {
      return cluster
        .running()
        .every((observer) =>
          Object.entries(expected).every(([id, state]) => cluster.stateOf(observer, id) === state),
        );
    },
    running() {
      return ids.filter((id) => !down.has(id));
    },
    async stopAll() {
      await net.clock.run(Promise.all(ids.map((id) => node(id).stop())));
    },
  };
  return cluster;
}
