/** `npm run simulator`: the simulator alone, configured by SIMULATOR_* variables (see README). */
import { loadOrExit } from '../env';
import { loadSimulatorConfig } from './config';
import { startSimulatorFromConfig } from './start';

async function main(): Promise<void> {
  const config = loadOrExit(() => loadSimulatorConfig(process.env, false));
  const sim = await startSimulatorFromConfig(config);
  const rows = sim.store.list().map((i) => ({ id: i.id, engine: i.engine, version: i.version, backups: i.backups.length }));
  console.log(`RDS simulator listening on ${sim.url}  (try: curl '${sim.url}/v3/0123456789abcdef0123456789abcdef/backups?instance_id=${rows[0]?.id}&limit=2')`);
  console.table(rows);
  console.log(`auth: ${config.tokens.length || config.keys.length ? 'token/AK-SK required' : 'open'}; throttling: ${config.rateLimitPerMinute || 'off'}/min per caller; admin: ${config.admin ? `${sim.url}/__admin/` : 'off'}; lifecycle: ${config.lifecycleMs ? `a step every ${config.lifecycleMs} ms` : 'off'}`);
  const stop = (): void => { void sim.close().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
