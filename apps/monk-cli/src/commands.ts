import { Actions } from './commands/actions.ts';
import { ClusterContexts } from './commands/cluster-contexts.ts';
import { ClusterDestroy } from './commands/cluster-destroy.ts';
import { ClusterExit } from './commands/cluster-exit.ts';
import { ClusterGrow } from './commands/cluster-grow.ts';
import { ClusterInfo } from './commands/cluster-info.ts';
import { ClusterJoin } from './commands/cluster-join.ts';
import { ClusterJoinToken } from './commands/cluster-join-token.ts';
import { ClusterNew } from './commands/cluster-new.ts';
import { ClusterOperators } from './commands/cluster-operators.ts';
import { ClusterPeerRemove } from './commands/cluster-peer-remove.ts';
import { ClusterPeerTags } from './commands/cluster-peer-tags.ts';
import { ClusterPeers } from './commands/cluster-peers.ts';
import { ClusterShrink } from './commands/cluster-shrink.ts';
import { ClusterSwitch } from './commands/cluster-switch.ts';
import { Describe } from './commands/describe.ts';
import { Do } from './commands/do.ts';
import { Dump } from './commands/dump.ts';
import { Events } from './commands/events.ts';
import { Exec } from './commands/exec.ts';
import { Info } from './commands/info.ts';
import { List } from './commands/list.ts';
import { Load } from './commands/load.ts';
import { Logs } from './commands/logs.ts';
import { Plan } from './commands/plan.ts';
import { Ps } from './commands/ps.ts';
import { Purge } from './commands/purge.ts';
import { Restart } from './commands/restart.ts';
import { Run } from './commands/run.ts';
import { Images } from './commands/images.ts';
import { RegistryList } from './commands/registry-list.ts';
import { RegistryLogin } from './commands/registry-login.ts';
import { RegistryLogout } from './commands/registry-logout.ts';
import { SecretsAdd } from './commands/secrets-add.ts';
import { SecretsList } from './commands/secrets-list.ts';
import { SecretsRemove } from './commands/secrets-remove.ts';
import { Shell } from './commands/shell.ts';
import { Status } from './commands/status.ts';
import { Stop } from './commands/stop.ts';
import { Update } from './commands/update.ts';
import { Scale } from './commands/scale.ts';
import { Version } from './commands/version.ts';

/** Every command of `monk`, discovered explicitly (package.json `oclif.commands`). */
export const commands = {
  actions: Actions,
  'cluster:contexts': ClusterContexts,
  'cluster:destroy': ClusterDestroy,
  'cluster:exit': ClusterExit,
  'cluster:grow': ClusterGrow,
  'cluster:info': ClusterInfo,
  'cluster:join': ClusterJoin,
  'cluster:join-token': ClusterJoinToken,
  'cluster:new': ClusterNew,
  'cluster:operators': ClusterOperators,
  'cluster:peer-remove': ClusterPeerRemove,
  'cluster:peer-tags': ClusterPeerTags,
  'cluster:peers': ClusterPeers,
  'cluster:shrink': ClusterShrink,
  'cluster:switch': ClusterSwitch,
  describe: Describe,
  do: Do,
  dump: Dump,
  events: Events,
  exec: Exec,
  images: Images,
  info: Info,
  list: List,
  load: Load,
  logs: Logs,
  plan: Plan,
  ps: Ps,
  purge: Purge,
  'registry:list': RegistryList,
  'registry:login': RegistryLogin,
  'registry:logout': RegistryLogout,
  restart: Restart,
  run: Run,
  'secrets:add': SecretsAdd,
  'secrets:list': SecretsList,
  'secrets:remove': SecretsRemove,
  shell: Shell,
  status: Status,
  stop: Stop,
  update: Update,
  scale: Scale,
  version: Version,
};
