/**
 * GraphiQL served from the gateway's own assets. Apollo's default landing page loads Sandbox
 * from a CDN and is blank offline; this page is GraphiQL 4 (documentation explorer, history)
 * bundled at build time into `dist/graphiql/` (scripts/build-graphiql.mjs), and every byte of it
 * comes from this origin. Assets are compressed once, off the event loop, and served from memory
 * with long-lived caching under content-hashed URLs.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';

import { jsonReply, type Reply } from './reply';

/** What the handler reads of a request (http/router.ts's Exchange is one). */
export interface PageRequest {
  method: string;
  pathname: string;
  search: string;
  header(name: string): string | undefined;
}

/** `dist/graphiql/`, seen from `src/http/` (tests) and from `dist/http/` (npm start) alike. */
export const ASSETS_DIR = path.join(__dirname, '..', '..', 'dist', 'graphiql');

export interface GraphiQLPageOptions {
  /** Where the built assets are read from. @default ASSETS_DIR */
  assetsDir?: string;
  /** Where GraphiQL sends operations (same origin), e.g. `/graphql`. */
  endpoint: string;
  /** Where the assets are served, e.g. `/graphiql`. */
  assetsPath: string;
  /** An instance id for the example query; a placeholder when unknown. */
  exampleInstanceId?: string;
  /** Headers the example tab opens with, e.g. `X-Project-Id`. */
  exampleHeaders: Record<string, string>;
}

export const EXAMPLE_QUERY = `# A page of backups, newest first. Run it with the ▶ button (Ctrl-Enter);
# the book icon opens the docs of every type, field and argument, the clock the history.
query Backups($instanceId: ID!, $first: Int, $after: String) {
  backups(instanceId: $instanceId, first: $first, after: $after) {
    totalCount
    edges {
      cursor
      node { id name type status sizeKb beginTime endTime datastore { type version } }
    }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
`;

/** Nothing but this origin: no inline script, no eval, no request elsewhere (fonts and icons are inlined). */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset {
  type: string;
  identity: Buffer;
  gzip: Buffer;
  br: Buffer;
  etag: string;
}

export interface GraphiQLHandler {
  /**
   * Answers the page (for `/graphql`) or an asset (under `assetsPath`): 200 or 304, 405 for a
   * method other than GET or HEAD, 503 when the assets cannot be read. Undefined when the path
   * is neither.
   */
  handle(request: PageRequest): Promise<Reply | undefined>;
  /**
   * Reads and compresses everything ahead of the first visit. Never rejects: resolves with the
   * error when the assets cannot be read (not built), so start-up can warn and go on; the page
   * then answers 503, and each visit tries to read the assets again.
   */
  warm(): Promise<Error | undefined>;
}

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);
/**
 * The asset names served, with their types. A Map, not an object: a name comes from the URL, and
 * `name in object` is true for `toString`, `__proto__` and every other inherited key.
 */
const FILES: ReadonlyMap<string, string> = new Map([['app.js', 'text/javascript; charset=utf-8'], ['app.css', 'text/css; charset=utf-8']]);

async function toAsset(type: string, identity: Buffer): Promise<Asset> {
  const [gz, br] = await Promise.all([
    gzipAsync(identity, { level: 9 }),
    brotliAsync(identity, { params: { [zlib.BROTLI_PARAM_QUALITY]: 9, [zlib.BROTLI_PARAM_SIZE_HINT]: identity.length } }),
  ]);
  return { type, identity, gzip: gz, br, etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 16)}"` };
}

const escapeJsonForHtml = (value: unknown): string => JSON.stringify(value).replace(/</g, '\\u003c');

/** The page: GraphiQL's settings inline (as JSON, inert), its assets by content-hashed URL. */
function renderPage(options: GraphiQLPageOptions, url: (file: string) => string): string {
  const settings = {
    endpoint: options.endpoint,
    query: EXAMPLE_QUERY,
    variables: JSON.stringify({ instanceId: options.exampleInstanceId ?? '<an RDS instance id>', first: 5 }, null, 2),
    headers: JSON.stringify(options.exampleHeaders, null, 2),
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rds-backup-graph · GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${url('app.css')}">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script id="graphiql-settings" type="application/json">${escapeJsonForHtml(settings)}</script>
<script src="${url('app.js')}" defer></script>
</body>
</html>
`;
}

export function createGraphiQLHandler(options: GraphiQLPageOptions): GraphiQLHandler {
  const assetsDir = options.assetsDir ?? ASSETS_DIR;
  let prepared: Promise<{ page: Asset; assets: Map<string, Asset> }> | undefined;
  const prepare = async (): Promise<{ page: Asset; assets: Map<string, Asset> }> => {
    const assets = new Map<string, Asset>();
    for (const [file, type] of FILES) assets.set(file, await toAsset(type, await fs.readFile(path.join(assetsDir, file))));
    const url = (file: string): string => `${options.assetsPath}/${file}?v=${assets.get(file)!.etag.slice(1, 9)}`;
    const html = renderPage(options, url);
    return { page: await toAsset('text/html; charset=utf-8', Buffer.from(html)), assets };
  };
  const ready = (): ReturnType<typeof prepare> => {
    prepared ??= prepare();
    prepared.catch(() => { prepared = undefined; }); // e.g. not built yet: try again next time
    return prepared;
  };

  function reply(request: PageRequest, asset: Asset, cacheControl: string, extra: Record<string, string> = {}): Reply {
    const headers: Record<string, string> = {
      'content-type': asset.type, 'cache-control': cacheControl, etag: asset.etag, vary: 'accept-encoding', 'x-content-type-options': 'nosniff', ...extra,
    };
    if (request.header('if-none-match') === asset.etag) return { status: 304, headers };
    const accepts = request.header('accept-encoding') ?? '';
    const [body, encoding] = /\bbr\b/.test(accepts) ? [asset.br, 'br'] : /\bgzip\b/.test(accepts) ? [asset.gzip, 'gzip'] : [asset.identity, undefined];
    if (encoding) headers['content-encoding'] = encoding;
    return { status: 200, headers, body };
  }

  return {
    async warm() {
      try {
        await ready();
        return undefined;
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    },
    async handle(request) {
      const { pathname } = request;
      const isPage = pathname === options.endpoint;
      const file = pathname.startsWith(`${options.assetsPath}/`) ? pathname.slice(options.assetsPath.length + 1) : undefined;
      if (!isPage && (file === undefined || !FILES.has(file))) return undefined;
      if (request.method !== 'GET' && request.method !== 'HEAD') return jsonReply(405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
      let built;
      try {
        built = await ready();
      } catch {
        // The message names no path: the log has the details (startGateway's warm-up warning).
        return jsonReply(503, { error: 'GraphiQL is not available: its assets are not built (run `npm run build`).' });
      }
      if (isPage) return reply(request, built.page, 'no-cache', { 'content-security-policy': CSP });
      return reply(request, built.assets.get(file!)!, 'public, max-age=31536000, immutable');
    },
  };
}

/** Whether a request is a browser asking for a page (not a GraphQL GET with a query). */
export function wantsGraphiQL(request: PageRequest): boolean {
  return (request.method === 'GET' || request.method === 'HEAD') && /\btext\/html\b/.test(request.header('accept') ?? '') && !/[?&]query=/.test(request.search);
}
