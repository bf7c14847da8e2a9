import { MonkError, type PeerState } from '@monk/model';
import { createBroadcastQueue } from './broadcast-queue.ts';
import {
  decodeMembershipMessage,
  encodeMembershipMessage,
  type MemberRecord,
  type MembershipMessage,
  type MembershipUpdate,
} from './membership-codec.ts';
import { resolveMembershipConfig, type MembershipConfig } from './membership-config.ts';
import type { MembershipTransport } from './membership-transport.ts';
import { reconnectDelay } from './reconnect-backoff.ts';
import { createSuspicion, type Suspicion } from './suspicion.ts';
import { systemTimers, type Timers } from './timers.ts';

/** SWIM states: `dead` members are kept (not forgotten) until an operator removes them; `left` is a clean exit. */
export type MemberState = PeerState;

/** One member of the cluster as this peer sees it. */
export interface Member {
  readonly id: string;
  readonly state: MemberState;
  /** Bumped only by the member itself (to refute a suspicion, to change its meta, to leave or rejoin). */
  readonly incarnation: number;
  /** Free-form labels the member publishes about itself (name, tags, addresses...). */
  readonly meta: Readonly<Record<string, string>>;
  /** When this peer saw the member enter its current state (ms of the injected clock). */
  readonly stateSince: number;
}

/** Where membership reports dropped messages and state changes; the daemon passes its logger in. */
export interface MembershipLogger {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/** Listener of membership changes; `previous` is undefined for a member seen for the first time. */
export type MembershipListener = (member: Member, previous: MemberState | undefined) => void;

/**
 * SWIM-style cluster membership with Lifeguard suspicion: failure detection by direct and indirect probes,
 * infection-style dissemination piggybacked on probes, full-state push-pull on join and periodically.
 */
export interface Membership {
  /** Serves the protocol and starts probing and gossip. Idempotent. After `stop`, starts again as alive. */
  start(): void;
  /** Stops probing, gossip and answering, without telling anyone (peers will detect this peer as dead). */
  stop(): Promise<void>;
  /**
   * Starts if needed, then exchanges full state with every seed. Resolves once at least one seed answered;
   * rejects with MonkError `PEER_UNREACHABLE` when none did. An empty seed list is a cluster of one.
   */
  join(seedPeerIds: readonly string[]): Promise<void>;
  /** Announces `left` to every live member (best effort, bounded by `requestTimeoutMs`), then stops. */
  leave(): Promise<void>;
  /** Every known member, this peer included, dead and left ones too, sorted by id. */
  members(): Member[];
  /** Replaces this peer's meta, bumps its incarnation and disseminates it. */
  setMeta(meta: Readonly<Record<string, string>>): void;
  /**
   * Forgets `peerId` locally (operator eviction of a dead or left member). A live member gossiped again
   * reappears. Throws MonkError `INVALID_REQUEST` for this peer itself. Listeners are not called.
   */
  remove(peerId: string): void;
  /**
   * Calls `listener` when a member appears, changes state, or (while alive) changes meta. Returns an
   * unsubscribe function. A throwing listener is logged and does not disturb the others.
   */
  onChange(listener: MembershipListener): () => void;
}

/** Options of {@link createMembership}. */
export interface MembershipOptions {
  readonly transport: MembershipTransport;
  /** Defaults to the wall clock ({@link systemTimers}). */
  readonly timers?: Timers;
  /** Uniform in [0, 1); defaults to `Math.random`. Tests pass a seeded generator. */
  readonly random?: () => number;
  readonly config?: Partial<MembershipConfig>;
  /** This peer's initial meta. */
  readonly meta?: Readonly<Record<string, string>>;
  /** Defaults to {@link defaultMembershipProtocol}. */
  readonly protocol?: string;
  readonly logger?: MembershipLogger;
}

/** The protocol id membership serves unless told otherwise. */
export const defaultMembershipProtocol = '/monk/membership/1.0.0';

interface MemberEntry {
  readonly id: string;
  state: MemberState;
  incarnation: number;
  meta: Readonly<Record<string, string>>;
  stateSince: number;
  suspicion: Suspicion | undefined;
}

type Phase = 'idle' | 'running' | 'stopped';
type IndirectResult = 'ack' | 'nack' | 'none';

const silentLogger: MembershipLogger = { debug: () => {}, warn: () => {} };

/**
 * Creates the membership of this peer on `transport`. Nothing happens until `start()` or `join()`.
 * Throws MonkError `INVALID_REQUEST` for an inconsistent config.
 *
 * @example
 * const membership = createMembership({ transport, meta: { name: 'host-a' } });
 * membership.onChange((member, previous) => log(`${member.id}: ${previous} → ${member.state}`));
 * await membership.join(['12D3KooW...seed']);
 * // later
 * await membership.leave();
 */
export function createMembership(options: MembershipOptions): Membership {
  const { transport } = options;
  const timers = options.timers ?? systemTimers;
  const random = options.random ?? Math.random;
  const config = resolveMembershipConfig(options.config);
  const protocol = options.protocol ?? defaultMembershipProtocol;
  const logger = options.logger ?? silentLogger;
  const selfId = transport.peerId;

  const entries = new Map<string, MemberEntry>();
  const self: MemberEntry = {
    id: selfId,
    state: 'alive',
    incarnation: 0,
    meta: { ...options.meta },
    stateSince: timers.now(),
    suspicion: undefined,
  };
  entries.set(selfId, self);

  const listeners = new Set<MembershipListener>();
  const queue = createBroadcastQueue({
    limit: () => Math.ceil(config.retransmitMult * Math.log2(liveCount() + 1)),
  });
  const loops = new Set<() => void>();
  /** Retry state of each dead member (see `reconnect`). */
  const reconnects = new Map<string, { attempt: number; dueAt: number; inFlight: boolean }>();
  const inflight = new Set<Promise<unknown>>();
  let phase: Phase = 'idle';
  let handlerRegistered = false;
  let abort = new AbortController();
  let awareness = 0;
  let probeOrder: string[] = [];
  let probeIndex = 0;

  // ---- helpers -------------------------------------------------------------------------------------------

  function liveCount(): number {
    let count = 0;
    for (const entry of entries.values())
      if (entry.state === 'alive' || entry.state === 'suspect') count += 1;
    return count;
  }

  function snapshot(entry: MemberEntry): Member {
    return {
      id: entry.id,
      state: entry.state,
      incarnation: entry.incarnation,
      meta: { ...entry.meta },
      stateSince: entry.stateSince,
    };
  }

  function notify(entry: MemberEntry, previous: MemberState | undefined): void {
    if (listeners.size === 0) return;
    const member = snapshot(entry);
    for (const listener of listeners) {
      try {
        listener(member, previous);
      } catch (error) {
        logger.warn('membership listener threw', { member: entry.id, error });
      }
    }
  }

  function sameMeta(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
  }

  function pickRandom<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const picked: T[] = [];
    while (picked.length < count && pool.length > 0) {
      const index = Math.floor(random() * pool.length);
      const [item] = pool.splice(index, 1);
      if (item !== undefined) picked.push(item);
    }
    return picked;
  }

  function isLive(entry: MemberEntry): boolean {
    return entry.id !== selfId && (entry.state === 'alive' || entry.state === 'suspect');
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    inflight.add(promise);
    const forget = (): void => {
      inflight.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  function every(intervalMs: () => number, task: () => Promise<void> | void): void {
    let cancel: () => void = () => {};
    const arm = (delay: number): void => {
      cancel = timers.setTimeout(() => {
        loops.delete(cancel);
        if (phase !== 'running') return;
        const started = timers.now();
        const rearm = (): void => {
          if (phase === 'running') arm(Math.max(0, started + intervalMs() - timers.now()));
        };
        track(Promise.resolve().then(task))
          .catch((error: unknown) => logger.warn('membership task failed', { error }))
          .finally(rearm);
      }, delay);
      loops.add(cancel);
    };
    // A random first delay keeps peers that start together from probing in lockstep.
    arm(Math.floor(random() * intervalMs()));
  }

  function addToProbeOrder(id: string): void {
    if (probeOrder.indexOf(id, probeIndex) !== -1) return;
    const position = probeIndex + Math.floor(random() * (probeOrder.length - probeIndex + 1));
    probeOrder.splice(position, 0, id);
  }

  // ---- state machine (memberlist's rules, plus an explicit `left`) ---------------------------------------

  function refute(claimed: number): void {
    self.incarnation = Math.max(self.incarnation, claimed) + 1;
    queue.enqueue(aliveUpdate(self));
    logger.debug('refuting a claim about this peer', { incarnation: self.incarnation });
  }

  function aliveUpdate(entry: MemberEntry): MembershipUpdate {
    return { kind: 'alive', id: entry.id, incarnation: entry.incarnation, meta: { ...entry.meta } };
  }

  function suspicionBounds(): { minMs: number; maxMs: number; confirmations: number } {
    const n = liveCount();
    const minMs = config.suspicionMult * Math.max(1, Math.log10(Math.max(1, n))) * config.probeIntervalMs;
    const confirmations = n - 2 < config.suspicionConfirmations ? 0 : config.suspicionConfirmations;
    return { minMs, maxMs: minMs * config.suspicionMaxTimeoutMult, confirmations };
  }

  function startSuspicion(entry: MemberEntry, from: string): void {
    entry.suspicion?.cancel();
    entry.suspicion = createSuspicion({
      timers,
      from,
      ...suspicionBounds(),
      onTimeout: () => {
        if (phase !== 'running' || entry.state !== 'suspect') return;
        logger.debug('suspicion timed out', { member: entry.id });
        applyDead({ kind: 'dead', id: entry.id, incarnation: entry.incarnation, from: selfId });
      },
    });
  }

  function setState(entry: MemberEntry, state: MemberState): void {
    entry.state = state;
    entry.stateSince = timers.now();
    if (state !== 'suspect') {
      entry.suspicion?.cancel();
      entry.suspicion = undefined;
    }
  }

  function claimsAboutSelf(incarnation: number, strict: boolean): void {
    if (self.state !== 'alive') return;
    if (strict ? incarnation > self.incarnation : incarnation >= self.incarnation) refute(incarnation);
    // A stale accusation means the sender missed our refutation: answer it again.
    else if (!strict && queue.get(selfId)?.kind !== 'alive') queue.enqueue(aliveUpdate(self));
  }

  function applyAlive(update: MembershipUpdate & { kind: 'alive' }): void {
    if (update.id === selfId) {
      const collides = update.incarnation === self.incarnation && !sameMeta(update.meta, self.meta);
      claimsAboutSelf(update.incarnation, !collides);
      return;
    }
    const entry = entries.get(update.id);
    if (entry === undefined) {
      const created: MemberEntry = {
        id: update.id,
        state: 'alive',
        incarnation: update.incarnation,
        meta: { ...update.meta },
        stateSince: timers.now(),
        suspicion: undefined,
      };
      entries.set(update.id, created);
      addToProbeOrder(update.id);
      queue.enqueue(update);
      notify(created, undefined);
      return;
    }
    if (update.incarnation <= entry.incarnation) return;
    const previous = entry.state;
    const metaChanged = !sameMeta(entry.meta, update.meta);
    entry.incarnation = update.incarnation;
    entry.meta = { ...update.meta };
    if (previous !== 'alive') {
      setState(entry, 'alive');
      addToProbeOrder(entry.id);
    }
    queue.enqueue(update);
    if (previous !== 'alive' || metaChanged) notify(entry, previous);
  }

  function applySuspect(update: MembershipUpdate & { kind: 'suspect' }): void {
    if (update.id === selfId) {
      claimsAboutSelf(update.incarnation, false);
      return;
    }
    const entry = entries.get(update.id);
    if (entry === undefined || update.incarnation < entry.incarnation) return;
    if (entry.state === 'suspect') {
      if (entry.suspicion?.confirm(update.from) === true) queue.enqueue(update);
      return;
    }
    if (entry.state !== 'alive') return;
    entry.incarnation = update.incarnation;
    setState(entry, 'suspect');
    startSuspicion(entry, update.from);
    queue.enqueue(update);
    notify(entry, 'alive');
  }

  function applyDead(update: MembershipUpdate & { kind: 'dead' }): void {
    if (update.id === selfId) {
      claimsAboutSelf(update.incarnation, false);
      return;
    }
    const entry = entries.get(update.id);
    if (entry === undefined || update.incarnation < entry.incarnation) return;
    if (entry.state === 'dead' || entry.state === 'left') return;
    const previous = entry.state;
    entry.incarnation = update.incarnation;
    setState(entry, 'dead');
    queue.enqueue(update);
    notify(entry, previous);
  }

  function applyLeft(update: MembershipUpdate & { kind: 'left' }): void {
    if (update.id === selfId) {
      claimsAboutSelf(update.incarnation, false);
      return;
    }
    const entry = entries.get(update.id);
    if (entry === undefined || update.incarnation < entry.incarnation || entry.state === 'left') return;
    const previous = entry.state;
    entry.incarnation = update.incarnation;
    setState(entry, 'left');
    queue.enqueue(update);
    notify(entry, previous);
  }

  function applyUpdate(update: MembershipUpdate): void {
    switch (update.kind) {
      case 'alive':
        applyAlive(update);
        return;
      case 'suspect':
        applySuspect(update);
        return;
      case 'dead':
        applyDead(update);
        return;
      case 'left':
        applyLeft(update);
        return;
    }
  }

  /** Merges a full remote state. As in memberlist, a remote `dead` only makes a live member suspect. */
  function mergeRemoteState(records: readonly MemberRecord[], from: string): void {
    for (const record of records) {
      const { id, incarnation } = record;
      const known = id === selfId || entries.has(id);
      if (!known && record.state !== 'alive') {
        const created: MemberEntry = {
          id,
          state: record.state,
          incarnation,
          meta: { ...record.meta },
          stateSince: timers.now(),
          suspicion: undefined,
        };
        entries.set(id, created);
        if (record.state === 'suspect') {
          startSuspicion(created, from);
          addToProbeOrder(id);
        }
        notify(created, undefined);
        continue;
      }
      switch (record.state) {
        case 'alive':
          applyAlive({ kind: 'alive', id, incarnation, meta: record.meta });
          break;
        case 'suspect':
          applySuspect({ kind: 'suspect', id, incarnation, from });
          break;
        case 'dead':
          if (entries.get(id)?.state === 'alive') applySuspect({ kind: 'suspect', id, incarnation, from });
          else applyDead({ kind: 'dead', id, incarnation, from });
          break;
        case 'left':
          applyLeft({ kind: 'left', id, incarnation });
          break;
      }
    }
  }

  function localState(): MemberRecord[] {
    return [...entries.values()].map((entry) => ({
      id: entry.id,
      state: entry.state,
      incarnation: entry.incarnation,
      meta: { ...entry.meta },
    }));
  }

  /**
   * Pending updates for a message to `to`. A suspected recipient first hears that it is suspected; news of
   * a member's own liveness is never sent to that member (it knows better, and it would waste a transmit).
   */
  function updatesFor(to: string): MembershipUpdate[] {
    const skip = (update: MembershipUpdate): boolean => update.id === to && update.kind === 'alive';
    const entry = entries.get(to);
    if (entry?.state === 'suspect') {
      const accusation: MembershipUpdate = {
        kind: 'suspect',
        id: to,
        incarnation: entry.incarnation,
        from: selfId,
      };
      return [accusation, ...queue.take(config.maxPiggybackUpdates - 1, (update) => update.id === to)];
    }
    return queue.take(config.maxPiggybackUpdates, skip);
  }

  // ---- wire ----------------------------------------------------------------------------------------------

  function absorb(message: MembershipMessage, from: string): void {
    if (phase !== 'running') return;
    if (message.type === 'push-pull') mergeRemoteState(message.members, from);
    else for (const update of message.updates) applyUpdate(update);
  }

  async function send(
    to: string,
    message: MembershipMessage,
    timeoutMs: number,
  ): Promise<MembershipMessage | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await transport.request(to, protocol, encodeMembershipMessage(message), {
        timeoutMs: Math.max(1, Math.round(timeoutMs)),
        signal: abort.signal,
      });
    } catch (error) {
      logger.debug('membership request failed', { to, type: message.type, error });
      return undefined;
    }
    const decoded = decodeMembershipMessage(bytes);
    if (!decoded.ok) {
      logger.warn('dropped a malformed membership response', { from: to, reason: decoded.reason });
      return undefined;
    }
    absorb(decoded.message, to);
    return decoded.message;
  }

  async function ping(target: string, timeoutMs: number): Promise<boolean> {
    const response = await send(
      target,
      { v: 1, type: 'ping', target, updates: updatesFor(target) },
      timeoutMs,
    );
    return response?.type === 'ack';
  }

  async function pingRequest(helper: string, target: string, timeoutMs: number): Promise<IndirectResult> {
    // The helper's own ping must answer before our request times out: leave a quarter for the two hops.
    const inner = Math.max(1, Math.floor(timeoutMs * 0.75));
    const message: MembershipMessage = {
      v: 1,
      type: 'ping-req',
      target,
      timeoutMs: inner,
      updates: updatesFor(helper),
    };
    const response = await send(helper, message, timeoutMs);
    if (response?.type !== 'ping-req-result') return 'none';
    return response.ok ? 'ack' : 'nack';
  }

  async function handleRequest(bytes: Uint8Array, from: string): Promise<Uint8Array> {
    if (phase !== 'running') {
      throw new MonkError('PEER_UNREACHABLE', `membership of ${selfId} is not running`);
    }
    const decoded = decodeMembershipMessage(bytes);
    if (!decoded.ok) {
      logger.warn('dropped a malformed membership request', { from, reason: decoded.reason });
      throw new MonkError('PROTOCOL_ERROR', `malformed membership request from ${from}: ${decoded.reason}`);
    }
    const message = decoded.message;
    absorb(message, from);
    switch (message.type) {
      case 'ping':
        if (message.target !== selfId) {
          throw new MonkError('PROTOCOL_ERROR', `ping for ${message.target} reached ${selfId}`);
        }
        return encodeMembershipMessage({ v: 1, type: 'ack', updates: updatesFor(from) });
      case 'ping-req': {
        const ok = message.target === selfId || (await ping(message.target, message.timeoutMs));
        return encodeMembershipMessage({ v: 1, type: 'ping-req-result', ok, updates: updatesFor(from) });
      }
      case 'gossip':
        return encodeMembershipMessage({ v: 1, type: 'gossip', updates: updatesFor(from) });
      case 'push-pull':
        return encodeMembershipMessage({ v: 1, type: 'push-pull', join: false, members: localState() });
      case 'ack':
      case 'ping-req-result':
        logger.warn('dropped a response sent as a request', { from, type: message.type });
        throw new MonkError('PROTOCOL_ERROR', `unexpected ${message.type} request from ${from}`);
    }
  }

  // ---- periodic work -------------------------------------------------------------------------------------

  function nextProbeTarget(): MemberEntry | undefined {
    for (let pass = 0; pass < 2; pass += 1) {
      while (probeIndex < probeOrder.length) {
        const id = probeOrder[probeIndex];
        probeIndex += 1;
        const entry = id === undefined ? undefined : entries.get(id);
        if (entry !== undefined && isLive(entry)) return entry;
      }
      probeOrder = pickRandom(
        [...entries.values()].filter(isLive).map((entry) => entry.id),
        Number.POSITIVE_INFINITY,
      );
      probeIndex = 0;
    }
    return undefined;
  }

  function scale(): number {
    return awareness + 1;
  }

  function adjustAwareness(delta: number): void {
    awareness = Math.min(config.awarenessMaxMultiplier - 1, Math.max(0, awareness + delta));
  }

  async function probe(): Promise<void> {
    const target = nextProbeTarget();
    if (target === undefined) return;
    const incarnation = target.incarnation;
    const timeoutMs = config.probeTimeoutMs * scale();
    if (await ping(target.id, timeoutMs)) {
      adjustAwareness(-1);
      return;
    }
    if (phase !== 'running') return;
    const indirectMs = config.probeIntervalMs * scale() - timeoutMs;
    const helpers = pickRandom(
      [...entries.values()].filter(
        (entry) => entry.state === 'alive' && entry.id !== selfId && entry !== target,
      ),
      config.indirectChecks,
    );
    // A second direct ping runs beside the indirect ones (memberlist's TCP fallback, in spirit).
    const [direct, ...indirect] = await Promise.all([
      ping(target.id, indirectMs).then((ok): IndirectResult => (ok ? 'ack' : 'none')),
      ...helpers.map((helper) => pingRequest(helper.id, target.id, indirectMs)),
    ]);
    if (direct === 'ack' || indirect.includes('ack')) {
      adjustAwareness(-1);
      return;
    }
    const missingNacks = indirect.filter((result) => result === 'none').length;
    adjustAwareness(helpers.length === 0 ? 1 : missingNacks);
    if (phase !== 'running') return;
    logger.debug('probe failed, suspecting', { member: target.id });
    applySuspect({ kind: 'suspect', id: target.id, incarnation, from: selfId });
  }

  function gossip(): void {
    const targets: MemberEntry[] = [];
    if (queue.size > 0) {
      const now = timers.now();
      const candidates = [...entries.values()].filter(
        (entry) =>
          isLive(entry) || (entry.state === 'dead' && now - entry.stateSince < config.gossipToTheDeadMs),
      );
      targets.push(...pickRandom(candidates, config.gossipNodes));
    }
    // A suspected member must hear of the suspicion to refute it, so it gets every round while we suspect
    // it; its answer carries the refutation back even when the refutation has left its own queue.
    for (const entry of entries.values()) {
      if (entry.state === 'suspect' && !targets.includes(entry)) targets.push(entry);
    }
    for (const target of targets) {
      const updates = updatesFor(target.id);
      if (updates.length > 0)
        void track(send(target.id, { v: 1, type: 'gossip', updates }, config.probeIntervalMs));
    }
  }

  async function pushPull(
    peerId: string,
    join: boolean,
    timeoutMs = config.requestTimeoutMs,
  ): Promise<boolean> {
    const response = await send(peerId, { v: 1, type: 'push-pull', join, members: localState() }, timeoutMs);
    return response?.type === 'push-pull';
  }

  async function antiEntropy(): Promise<void> {
    const [peer] = pickRandom(
      [...entries.values()].filter((entry) => entry.state === 'alive' && entry.id !== selfId),
      1,
    );
    if (peer !== undefined) await pushPull(peer.id, false);
  }

  /** Retries dead members on their backoff (see `reconnectDelay`); one push-pull in flight per member. */
  function reconnect(): void {
    const now = timers.now();
    for (const id of reconnects.keys()) if (entries.get(id)?.state !== 'dead') reconnects.delete(id);
    for (const entry of entries.values()) {
      if (entry.state !== 'dead') continue;
      let retry = reconnects.get(entry.id);
      if (retry === undefined) {
        retry = { attempt: 0, dueAt: now + nextReconnectDelay(0, entry), inFlight: false };
        reconnects.set(entry.id, retry);
      }
      if (retry.inFlight || retry.dueAt > now) continue;
      // The next retry is due from this one's start, and this one gives up by then: a retry that went
      // out just before the network returned never holds up the next.
      const current = retry;
      current.attempt += 1;
      current.dueAt = now + nextReconnectDelay(current.attempt, entry);
      current.inFlight = true;
      void track(pushPull(entry.id, false, Math.min(config.requestTimeoutMs, current.dueAt - now)))
        .catch(() => false)
        .finally(() => {
          current.inFlight = false;
        });
    }
  }

  function nextReconnectDelay(attempt: number, entry: MemberEntry): number {
    return reconnectDelay(
      { attempt, deadForMs: timers.now() - entry.stateSince },
      {
        initialMs: config.reconnectInitialMs,
        maxMs: config.reconnectMaxMs,
        jitter: 0.2,
        fastForMs: config.reconnectFastForMs,
        slowIntervalMs: config.reconnectIntervalMs,
      },
      random,
    );
  }

  // ---- lifecycle -----------------------------------------------------------------------------------------

  function start(): void {
    if (phase === 'running') return;
    if (!handlerRegistered) {
      transport.handle(protocol, (request, context) => handleRequest(request, context.from));
      handlerRegistered = true;
    }
    if (self.state !== 'alive') {
      self.incarnation += 1;
      const previous = self.state;
      setState(self, 'alive');
      notify(self, previous);
    }
    if (phase === 'stopped') queue.enqueue(aliveUpdate(self));
    abort = new AbortController();
    phase = 'running';
    every(() => config.probeIntervalMs * scale(), probe);
    every(() => config.gossipIntervalMs, gossip);
    every(() => config.pushPullIntervalMs, antiEntropy);
    // Ticks at half the first retry delay, so retries start within 1.5× of it.
    every(() => config.reconnectInitialMs / 2, reconnect);
  }

  async function stop(): Promise<void> {
    if (phase !== 'running') return;
    phase = 'stopped';
    for (const cancel of loops) cancel();
    loops.clear();
    for (const entry of entries.values()) {
      entry.suspicion?.cancel();
      entry.suspicion = undefined;
    }
    abort.abort(new MonkError('CANCELLED', `membership of ${selfId} stopped`));
    await Promise.allSettled([...inflight]);
  }

  return {
    start,
    stop,
    async join(seedPeerIds) {
      start();
      const seeds = [...new Set(seedPeerIds)].filter((id) => id !== selfId);
      if (seeds.length === 0) return;
      const answered = await Promise.all(seeds.map((seed) => track(pushPull(seed, true))));
      if (!answered.includes(true)) {
        throw new MonkError('PEER_UNREACHABLE', `could not join: no seed answered (${seeds.join(', ')})`, {
          details: { seeds },
        });
      }
    },
    async leave() {
      if (phase !== 'running') return;
      self.incarnation += 1;
      setState(self, 'left');
      notify(self, 'alive');
      const update: MembershipUpdate = { kind: 'left', id: selfId, incarnation: self.incarnation };
      queue.enqueue(update);
      const targets = [...entries.values()].filter(isLive);
      await Promise.all(
        targets.map((target) =>
          track(send(target.id, { v: 1, type: 'gossip', updates: [update] }, config.requestTimeoutMs)),
        ),
      );
      await stop();
    },
    members() {
      return [...entries.values()].map(snapshot).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    setMeta(meta) {
      self.meta = { ...meta };
      self.incarnation += 1;
      queue.enqueue(aliveUpdate(self));
      notify(self, self.state);
    },
    remove(peerId) {
      if (peerId === selfId) {
        throw new MonkError('INVALID_REQUEST', `cannot remove this peer (${selfId}) from its own membership`);
      }
      const entry = entries.get(peerId);
      if (entry === undefined) return;
      entry.suspicion?.cancel();
      entries.delete(peerId);
      queue.drop(peerId);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
