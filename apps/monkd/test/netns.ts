import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A local "host" for partition tests: a network namespace joined to this one by a veth pair in a
 * private /30. A process started with {@link NetworkNamespace.command} lives in it; `isolate()` drops
 * every packet on its side of the veth, in both directions, so connections it dialled out are cut too
 * (dropping a listen port on loopback would not catch those). Needs root, `ip` and `iptables`.
 *
 * @example
 * await using host = await createNetworkNamespace();
 * spawn(host.command[0], [...host.command.slice(1), 'bin/monkd', '--p2p-host', host.innerAddress]);
 * await host.isolate();
 * await host.restore();
 */
export interface NetworkNamespace extends AsyncDisposable {
  readonly name: string;
  /** This side's address on the veth (listen here to be reachable from inside). */
  readonly outerAddress: string;
  /** The namespace's address. */
  readonly innerAddress: string;
  /** Prefix that runs a command inside the namespace (same filesystem, unix sockets still shared). */
  readonly command: readonly string[];
  /** Drops all traffic between the namespace and the rest (packets vanish: no resets, no errors). */
  isolate(): Promise<void>;
  /** Lets traffic through again. */
  restore(): Promise<void>;
  /** Removes the rules, the veth pair and the namespace (also when a test failed half-way). */
  remove(): Promise<void>;
}

async function sh(command: string, args: readonly string[]): Promise<void> {
  await run(command, [...args]);
}

/** Creates a namespace with a unique name and a random 10.x.y.0/30. */
export async function createNetworkNamespace(): Promise<NetworkNamespace> {
  const id = randomBytes(3).toString('hex');
  const name = `monk-${id}`;
  const outer = `mko${id}`;
  const inner = `mki${id}`;
  const bytes = randomBytes(2);
  const prefix = `10.${200 + ((bytes[0] ?? 0) % 50)}.${bytes[1] ?? 0}`;
  const base = Math.floor(Math.random() * 63) * 4;
  const outerAddress = `${prefix}.${base + 1}`;
  const innerAddress = `${prefix}.${base + 2}`;
  const inNs = ['ip', 'netns', 'exec', name];
  const rules = [
    ['INPUT', '-i', inner],
    ['OUTPUT', '-o', inner],
  ];
  let isolated = false;
  let removed = false;

  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    // Deleting the namespace deletes its end of the veth and with it the pair; rules live in the namespace.
    await sh('ip', ['netns', 'del', name]).catch(() => undefined);
    await sh('ip', ['link', 'del', outer]).catch(() => undefined);
  };

  try {
    await sh('ip', ['netns', 'add', name]);
    await sh('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
    await sh('ip', ['link', 'set', inner, 'netns', name]);
    await sh('ip', ['addr', 'add', `${outerAddress}/30`, 'dev', outer]);
    await sh('ip', ['link', 'set', outer, 'up']);
    await sh(inNs[0]!, [...inNs.slice(1), 'ip', 'addr', 'add', `${innerAddress}/30`, 'dev', inner]);
    await sh(inNs[0]!, [...inNs.slice(1), 'ip', 'link', 'set', inner, 'up']);
    await sh(inNs[0]!, [...inNs.slice(1), 'ip', 'link', 'set', 'lo', 'up']);
  } catch (error) {
    await remove();
    throw error;
  }

  return {
    name,
    outerAddress,
    innerAddress,
    // nsenter execs the command, so the child's pid is the command's own (signals reach it).
    command: ['nsenter', `--net=/var/run/netns/${name}`],
    async isolate() {
      if (isolated) return;
      for (const [chain = '', ...match] of rules)
        await sh(inNs[0]!, [...inNs.slice(1), 'iptables', '-I', chain, ...match, '-j', 'DROP']);
      isolated = true;
    },
    async restore() {
      if (!isolated) return;
      for (const [chain = '', ...match] of rules)
        await sh(inNs[0]!, [...inNs.slice(1), 'iptables', '-D', chain, ...match, '-j', 'DROP']);
      isolated = false;
    },
    remove,
    [Symbol.asyncDispose]: remove,
  };
}
