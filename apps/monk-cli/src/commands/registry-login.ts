import { Args, Flags } from '@oclif/core';
import { MonkError } from '@monk/model';
import type { RegistryEntry } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';

export class RegistryLogin extends MonkCommand {
  static override description =
    'Give the cluster credentials for a container registry. They are stored encrypted like secrets and used by whichever peer pulls an image from that registry; without an answering registry, peers fetch images from each other.';
  static override examples = [
    'printf %s "$TOKEN" | <%= config.bin %> registry login registry.example.com -u ci --password-stdin',
    '<%= config.bin %> registry login docker.io -u me -p s3cret',
  ];
  static override args = {
    server: Args.string({
      required: true,
      description: 'the registry host (docker.io for Docker Hub, registry.example.com:5000)',
    }),
  };
  static override flags = {
    username: Flags.string({ char: 'u', required: true, description: 'user name' }),
    password: Flags.string({ char: 'p', description: 'password or token (prefer --password-stdin)' }),
    'password-stdin': Flags.boolean({ description: 'read the password from standard input' }),
  };

  async run(): Promise<RegistryEntry> {
    const { args, flags } = await this.parse(RegistryLogin);
    const password = flags['password-stdin'] ? await readStdin() : flags.password;
    if (password === undefined || password === '') {
      throw new MonkError('INVALID_REQUEST', 'give the password with --password-stdin or --password');
    }
    const entry = (await this.client().call('registry.login', {
      server: args.server,
      username: flags.username,
      password,
    })) as RegistryEntry;
    if (!this.jsonEnabled()) this.log(`Stored credentials of ${entry.username} for ${entry.server}`);
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
