/**
 * `npm start`: the one file with side effects. Loads the configuration, starts the embedded
 * simulator when no upstream is configured, then the gateway.
 */
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { startSimulatorFromConfig } from './simulator/start';
import { startGateway } from './server';
import { createUpstreamClient } from './upstream/client';

/** The project the simulator's demo uses when none is configured (the simulator accepts any). */
const DEMO_PROJECT_ID = '0123456789abcdef0123456789abcdef';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  let endpoint = config.upstream.endpoint;
  let defaultProjectId = config.defaultProjectId;
  const simulator = endpoint === null ? await startSimulatorFromConfig(config.simulator) : undefined;
  if (simulator) {
    endpoint = simulator.url;
    defaultProjectId ??= DEMO_PROJECT_ID;
  }
  const client = createUpstreamClient({ endpoint: endpoint!, timeoutMs: config.upstream.timeoutMs, retries: config.upstream.retries });
  const gateway = await startGateway({ config, logger, client, endpoint: endpoint!, defaultProjectId });

  const firstInstance = simulator?.store.list()[0]?.id;
  console.log(`rds-backup-graph: GraphQL at ${gateway.url}/graphql`);
  if (simulator) {
    console.log(`upstream: embedded RDS simulator at ${simulator.url} (set RDS_ENDPOINT or RDS_REGION for the real cloud)`);
    console.log(`try: curl -s ${gateway.url}/graphql -H 'content-type: application/json' -d '{"query":"{ backups(instanceId: \\"${firstInstance}\\", first: 3) { totalCount nodes { id type status sizeKb beginTime } } }"}'`);
  } else {
    logger.info({ endpoint }, 'upstream');
  }

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await gateway.close();
    client.close();
    await simulator?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

void main();
