import type { ImagesResult } from '@monk/sdk';
import { MonkCommand } from '../base-command.ts';
import { renderTable } from '../render.ts';

/** `1.9 MB`, `104.9 MB`: decimal megabytes, as `docker images` shows them. */
function formatSize(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

export class Images extends MonkCommand {
  static override description =
    'List the images of every peer of the cluster and which peers hold each one (the same image ID). ' +
    'A peer that needs an image its engine lacks fetches it from one of these peers.';
  static override examples = ['<%= config.bin %> images', '<%= config.bin %> images --json'];

  async run(): Promise<ImagesResult> {
    await this.parse(Images);
    const result = await this.client().listImages();
    if (!this.jsonEnabled()) {
      this.log(
        result.images.length === 0
          ? 'No images.'
          : renderTable(
              ['IMAGE', 'ID', 'SIZE', 'PEERS'],
              result.images.map((image) => [
                image.repoTags.length === 0 ? '<none>' : image.repoTags.join(', '),
                image.id.replace(/^sha256:/, '').slice(0, 12),
                formatSize(image.sizeBytes),
                image.peers.join(', '),
              ]),
            ),
      );
      for (const missing of result.unreachable) {
        this.warn(`peer ${missing.peer} did not answer: ${missing.message}`);
      }
    }
    return result;
  }
}
