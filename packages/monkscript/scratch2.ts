import { createNodeFileSource, loadTemplates, createTemplateSource, resolveDeployment } from './src/index.ts';
import { toDnsLabel } from '@monk/model';
const root = '/work/shared/conformance/monk-kits';
const files = createNodeFileSource();
const [kit, path] = process.argv.slice(2) as [string, string];
const { templates } = await loadTemplates({ entries: kit.split(',').map(k => `${root}/${k}`), files });
const d = await resolveDeployment({ path, templates: createTemplateSource(templates), host: { hostnameOf: (p) => toDnsLabel(p.replace('/', '-')), secret: async (n) => `secret-${n}` }, volumeRoot: '/vol' });
console.log(JSON.stringify(d, null, 1));
