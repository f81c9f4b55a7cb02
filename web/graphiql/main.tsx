/**
 * The GraphiQL page's script, bundled by scripts/build-graphiql.mjs (esbuild) into
 * dist/graphiql/: GraphiQL 4 (CodeMirror, no web workers) with its documentation explorer and
 * history, talking to this gateway only. The server writes the page's settings into a JSON
 * data block, so no inline script is needed and the CSP can forbid them.
 */
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/style.css';
import { createRoot } from 'react-dom/client';

interface PageSettings {
  endpoint: string;
  query: string;
  variables: string;
  headers: string;
}

const settings = JSON.parse(document.getElementById('graphiql-settings')!.textContent!) as PageSettings;
const fetcher = createGraphiQLFetcher({ url: new URL(settings.endpoint, window.location.href).toString() });

createRoot(document.getElementById('graphiql')!).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={settings.query}
    query={settings.query}
    variables={settings.variables}
    headers={settings.headers}
    defaultEditorToolsVisibility
    isHeadersEditorEnabled
    maxHistoryLength={50}
  >
    <GraphiQL.Logo>rds-backup-graph</GraphiQL.Logo>
  </GraphiQL>,
);
