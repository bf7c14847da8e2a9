import { resolve } from 'node:path';
import { Args } from '@oclif/core';
import { MonkCommand } from '../base-command.ts';

export class Load extends MonkCommand {
  static override description =
    'Validate MonkScript templates (files, folders, MANIFESTs or Compose files) and store them in the cluster. Changes nothing that runs.';
  static override examples = [
    '<%= config.bin %> load examples/hello.yaml',
    '<%= config.bin %> load ./kit/MANIFEST',
  ];
  static override strict = false;
  static override args = {
    file: Args.string({ required: true, description: 'template file, folder, MANIFEST or compose.yaml' }),
  };

  async run(): Promise<{ loaded: string[]; warnings: string[] }> {
    const { argv } = await this.parse(Load);
    const entries = (argv as string[]).map((file) => resolve(file));
    // MonkScript (YAML, Compose schema) is loaded only by the commands that parse templates.
    const { createNodeFileSource, loadTemplates } = await import('@monk/monkscript');
    // Compose files interpolate ${VAR} from the environment of whoever runs `monk load`, as Compose does.
    const environment = Object.fromEntries(
      Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const client = this.client();
    // References to templates the cluster already holds (a kit loaded earlier) are not "not loaded".
    const held = (await client.listTemplates()).map((template) => template.path);
    const { templates, warnings, secrets } = await loadTemplates({
      entries,
      files: createNodeFileSource(),
      environment,
      knownPaths: held,
    });
    // Secrets a Compose file supplies (file: or environment: sources) are stored encrypted, never in templates.
    for (const secret of secrets) {
      await client.call('secrets.add', { name: secret.name, value: secret.value });
    }
    const { loaded } = await client.putTemplates({ templates });
    const warningLines = warnings.map((w) =>
      typeof w === 'string' ? w : (w as { message: string }).message,
    );
    if (!this.jsonEnabled()) {
      for (const warning of warningLines) process.stderr.write(`warning: ${warning}\n`);
      this.log(`Loaded ${loaded.length} template${loaded.length === 1 ? '' : 's'}: ${loaded.join(', ')}`);
      if (secrets.length > 0) {
        this.log(`Stored ${secrets.length} secret(s) from Compose: ${secrets.map((s) => s.name).join(', ')}`);
      }
    }
    return { loaded, warnings: warningLines };
  }
}
