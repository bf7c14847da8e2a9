import { createNodeFileSource, loadTemplates, createTemplateSource, resolveDeployment } from './src/index.ts';
import { toDnsLabel } from '@monk/model';
const root = '/work/shared/conformance/compose';
const files = createNodeFileSource();
for (const dir of ['atsea-swarm-stack','dogvscat-elk-stack','elasticsearch-logstash-kibana','minecraft','nginx-flask-mysql','pihole-cloudflared-doh','plex']) {
  try {
    const { templates, warnings, secrets } = await loadTemplates({ entries: [`${root}/${dir}`], files });
    const groups = templates.filter(t => t.kind === 'process-group' || t.kind === 'group');
    console.log(dir, templates.map(t => `${t.path}:${t.kind}`).join(' '), warnings.length, secrets.length);
    for (const g of groups) {
      try {
      const d = await resolveDeployment({ path: g.path, templates: createTemplateSource(templates), host: { hostnameOf: (p) => toDnsLabel(p.replace('/', '-')), secret: async (n) => 'x' }, volumeRoot: '/vol' });
      console.log('  ok', d.runnables.map(r => r.path + ' ' + r.containers.map(c=>c.spec.image).join(',')).join(' | '), d.warnings);
      } catch (e) { console.log('  FAIL', (e as any).code, (e as Error).message.slice(0,300)); }
    }
  } catch (e) { console.log(dir, 'FAIL', (e as any).code, (e as Error).message.slice(0, 300)); }
}
