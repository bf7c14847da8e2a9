import { Args, Flags } from '@oclif/core';
import { MonkError } from '@monk/model';
import type { SecretEntry } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { parseSecretAssignments } from '../secret-assignments.ts';

export class SecretsAdd extends MonkCommand {
  static override description =
    'Store secrets, encrypted, for every runnable (global, -g, the default) or for one runnable (-r). Give them as NAME=VALUE (one or more, as in Monk) or as NAME VALUE. A value of "-" is read from standard input, which keeps it out of your shell history.';
  static override examples = [
    '<%= config.bin %> secrets add -g db-password=s3cret api-token=t0ken',
    '<%= config.bin %> secrets add -r shop/web api-token=s3cret',
    'printf %s "$DB_PASSWORD" | <%= config.bin %> secrets add -g db-password=-',
    'printf %s "$DB_PASSWORD" | <%= config.bin %> secrets add db-password -',
  ];
  static override strict = false;
  static override args = {
    secret: Args.string({
      required: true,
      description: 'NAME=VALUE (repeatable), or NAME followed by VALUE; VALUE - reads standard input',
    }),
  };
  static override flags = {
    global: Flags.boolean({
      char: 'g',
      description: 'every runnable may read it (the default)',
      exclusive: ['runnable'],
    }),
    runnable: Flags.string({ char: 'r', description: 'only this runnable may read it (ns/name)' }),
  };

  async run(): Promise<SecretEntry | SecretEntry[]> {
    const { argv, flags } = await this.parse(SecretsAdd);
    const assignments = parseSecretAssignments(argv as string[]);
    const client = this.client();
    const entries: SecretEntry[] = [];
    for (const assignment of assignments) {
      const value = assignment.fromStdin ? await readStdin() : assignment.value;
      if (value === '')
        throw new MonkError('INVALID_REQUEST', `the value of secret ${assignment.name} is empty`);
      const entry = (await client.call('secrets.add', {
        name: assignment.name,
        value,
        ...(flags.runnable === undefined ? {} : { runnable: flags.runnable }),
      })) as SecretEntry;
      entries.push(entry);
      if (!this.jsonEnabled()) {
        this.log(
          `Stored secret ${entry.name} (${entry.scope === 'global' ? 'global' : `for ${entry.scope}`})`,
        );
      }
    }
    // One secret answers with its entry, as before; several with the list.
    return entries.length === 1 && entries[0] !== undefined ? entries[0] : entries;
  }
}

/** All of standard input, without one trailing newline (what `echo value |` adds). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
