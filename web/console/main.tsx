/**
 * The example console's entry (bundled by scripts/build-console.mjs into dist/console/): reads
 * config.json from the console's own server (the gateway's URL, the headers to send it, the
 * instances to show first; the API cannot list instances) and renders the App with an Apollo
 * Client for that gateway.
 */
import { ApolloProvider } from '@apollo/client/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { App, type Instance } from './App';
import { createClient } from './client';
import './console.css';

interface ConsoleConfig {
  graphqlUrl: string;
  headers?: Record<string, string>;
  instances: Instance[];
}

const config = (await (await fetch('config.json')).json()) as ConsoleConfig;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ApolloProvider client={createClient(config.graphqlUrl, config.headers)}>
      <App instances={config.instances} />
    </ApolloProvider>
  </StrictMode>,
);
