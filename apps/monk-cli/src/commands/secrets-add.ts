import { Args, Flags } from '@oclif/core';
import { MonkError } from '@monk/model';
import type { SecretEntry } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';

export class SecretsAdd extends MonkCommand {
  static override description =
    'Store a secret, encrypted, for every runnable (global) or for one runnable. Give the value as "-" to read it from standard input, which keeps it out of your shell history.';
  static override examples = [
    'printf %s "$DB_PASSWORD" | <%= config.bin %> secrets add db-password -',
    '<%= config.bin %> secrets add api-token s3cret --runnable shop/web',
  ];
  static override args = {
    name: Args.string({ required: true, description: 'secret name (letters, digits, _ . -)' }),
    value: Args.string({ required: true, description: 'the value, or - to read it from standard input' }),
  };
  static override flags = {
    runnable: Flags.string({ char: 'r', description: 'only this runnable may read it (ns/name)' }),
  };

  async run(): Promise<SecretEntry> {
    const { args, flags } = await this.parse(SecretsAdd);
    const value = args.value === '-' ? await readStdin() : args.value;
    if (value === '') throw new MonkError('INVALID_REQUEST', `the value of secret ${args.name} is empty`);
    const entry = (await this.client().call('secrets.add', {
      name: args.name,
      value,
      ...(flags.runnable === undefined ? {} : { runnable: flags.runnable }),
    })) as SecretEntry;
    if (!this.jsonEnabled()) {
      this.log(`Stored secret ${entry.name} (${entry.scope === 'global' ? 'global' : `for ${entry.scope}`})`);
    }
    return entry;
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
