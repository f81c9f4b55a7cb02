/**
 * `npm run console`: the gateway as `npm start` runs it (the embedded simulator unless an upstream
 * is configured), and the example console on its own port (`CONSOLE_PORT`, default 5173) with the
 * simulator's instances filled in. Stops both on signals.
 */
import path from 'node:path';

import { startApp } from '../app';
import { loadConfig } from '../config';
import { int, loadOrExit } from '../env';
import { loadSimulatorConfig } from '../simulator/config';
import { startConsoleServer } from './console-server';

async function main(): Promise<void> {
  const config = loadOrExit(loadConfig);
  const simulatorConfig = loadOrExit(() => loadSimulatorConfig(process.env, true));
  const consolePort = loadOrExit(() => int(process.env, 'CONSOLE_PORT', 5173, 0, 65_535));
  const app = await startApp(config, { simulator: simulatorConfig });
  void app.gateway.warmUp(); // as npm start does: GraphiQL stays one click away
  // With a real upstream there is nothing to fill in: the page starts empty and takes ids.
  const instances = app.simulator?.store.list().map(({ id, name }) => ({ id, name })) ?? [];
  const web = await startConsoleServer({
    root: path.join(__dirname, '..', 'console'),
    settings: { graphqlUrl: `${app.gateway.url}/graphql`, instances },
    port: consolePort,
    host: config.host,
  });
  console.log(`rds-backup-graph: GraphQL at ${app.gateway.url}/graphql (upstream: ${app.simulator ? 'embedded simulator' : app.endpoint})`);
  console.log(`example console at ${web.url}/`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) process.exit(1);
    stopping = true;
    await web.close();
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

void main();
