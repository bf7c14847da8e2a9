import { Flags } from '@oclif/core';
import { MonkError } from '@monk/model';
import type { JoinTokenResult } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';

const units: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Seconds in a duration like `90s`, `30m`, `1h`, `2d`, `1h30m` or a bare number of seconds. Throws
 * `INVALID_REQUEST` on anything else, and on zero.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  let seconds = 0;
  if (/^\d+$/.test(trimmed)) seconds = Number(trimmed);
  else if (/^(\d+[smhd])+$/.test(trimmed)) {
    for (const [, amount, unit] of trimmed.matchAll(/(\d+)([smhd])/g)) {
      seconds += Number(amount) * (units[unit ?? ''] ?? 0);
    }
  } else {
    throw new MonkError('INVALID_REQUEST', `"${text}" is not a duration: use e.g. 90s, 30m, 1h, 2d or 1h30m`);
  }
  if (seconds <= 0) throw new MonkError('INVALID_REQUEST', `a duration must be positive, got "${text}"`);
  return seconds;
}

export class ClusterJoinToken extends MonkCommand {
  static override description =
    'Issue a single-use token that lets a new host join the cluster (or an operator machine drive it). The token alone goes to stdout, its expiry to stderr.';
  static override examples = [
    'monk cluster join $(<%= config.bin %> cluster join-token)',
    '<%= config.bin %> cluster join-token --role operator --ttl 30m',
    '<%= config.bin %> cluster join-token --role operator --access view',
  ];
  static override flags = {
    ttl: Flags.string({
      description: 'how long the token is valid: 30m, 1h, 2d (at most 30d)',
      default: '1h',
    }),
    role: Flags.option({ options: ['peer', 'operator'] as const, default: 'peer' })({
      description: 'peer: a host running monkd; operator: a machine that only runs the monk CLI',
    }),
    access: Flags.option({ options: ['admin', 'deploy', 'view'] as const })({
      description:
        'operator tokens: view reads only; deploy (default) also changes workloads; admin also mints tokens, removes members and reads secret-derived values',
    }),
  };

  async run(): Promise<JoinTokenResult> {
    const { flags } = await this.parse(ClusterJoinToken);
    const ttlSeconds = parseDuration(flags.ttl);
    if (flags.access !== undefined && flags.role !== 'operator') {
      throw new MonkError('INVALID_REQUEST', '--access goes with --role operator: a peer may do everything');
    }
    const result = (await this.client().call('cluster.joinToken', {
      ttlSeconds,
      role: flags.role,
      ...(flags.access === undefined ? {} : { access: flags.access }),
    })) as JoinTokenResult;
    if (!this.jsonEnabled()) {
      process.stdout.write(`${result.token}\n`);
      const use = result.role === 'operator' ? 'monk cluster switch TOKEN' : 'monk cluster join TOKEN';
      const access = result.access === undefined ? '' : ` (${result.access} access)`;
      process.stderr.write(
        `${result.role} token${access}, valid until ${result.expiresAt}, single use: ${use}\n`,
      );
    }
    return result;
  }
}
