/**
 * `npm start`: the one file with side effects. Loads the configuration (the gateway's and the
 * embedded simulator's), starts the app (with the embedded simulator when no upstream is
 * configured), prints where it listens, and stops on signals.
 */
import { startApp } from './app';
import { loadConfig } from './config';
import { exitOnConfigError, loadOrExit } from './env';
import { loadSimulatorConfig } from './simulator/config';

async function main(): Promise<void> {
  const config = loadOrExit(loadConfig);
  // Read (and checked) even with an upstream configured, when it goes unused: a bad SIMULATOR_*
  // value stops start-up either way.
  const simulatorConfig = loadOrExit(() => loadSimulatorConfig(process.env, true));
  // A manifest of trusted documents is read and checked as the gateway starts: a ConfigError too.
  const app = await startApp(config, { simulator: simulatorConfig }).catch(exitOnConfigError);
  const { gateway, simulator, logger } = app;
  // warmUp() never rejects (GraphiQL assets that cannot be read are a warning): an unhandled
  // rejection here would end the process.
  void gateway.warmUp();

  console.log(`rds-backup-graph: GraphQL at ${gateway.url}/graphql`);
  if (simulator) {
    const firstInstance = simulator.store.list()[0]?.id;
    console.log(`upstream: embedded RDS simulator at ${simulator.url} (set RDS_ENDPOINT or RDS_REGION for the real cloud)`);
    // In require mode the free-form query below would be refused: say how to send a listed one instead.
    if (config.trustedDocuments?.mode === 'require') console.log(`try: a listed document by id (TRUSTED_DOCUMENTS_MODE=require): curl -s ${gateway.url}/graphql -H 'content-type: application/json' -d '{"documentId":"sha256:<id in ${config.trustedDocuments.file}>","variables":{}}'`);
    else console.log(`try: curl -s ${gateway.url}/graphql -H 'content-type: application/json' -d '{"query":"{ backups(instanceId: \\"${firstInstance}\\", first: 3) { totalCount nodes { id type status sizeKb beginTime } } }"}'`);
  } else {
    logger.info({ endpoint: app.endpoint, credentials: config.credentials ? 'AK/SK' : 'caller tokens' }, 'upstream');
  }

  // Graceful shutdown: stop accepting, let operations in flight finish (SHUTDOWN_TIMEOUT_MS at
  // most), close the upstream agent, Redis and the simulator, exit 0. A second signal exits now.
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: finishing requests in flight');
    await app.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

void main();
