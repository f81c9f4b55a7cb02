/**
 * The manifest of trusted documents (TRUSTED_DOCUMENTS), parsed: pure, no GraphQL. Two shapes
 * are read, the ones client tools write:
 * - Apollo's persisted query manifest (`@apollo/generate-persisted-query-manifest`):
 *   `{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id","name","type","body"}]}`;
 * - a flat map `{"<id>":"<document>"}` (Relay's persisted queries; GraphQL Code Generator's client
 *   preset with `persistedDocuments`, whose keys are `sha256:<hex>` with `hashAlgorithm: 'sha256'`).
 *
 * Every id must be the lowercase hex SHA-256 of its body (with or without `sha256:`): that is
 * what lets a request's free-form text be matched to the list by its text alone, and an APQ hash
 * be checked against a `query` sent with it, without hashing anything per request
 * (resolve.ts). Anything else is a ConfigError of one line naming the file and the entry.
 */
import { createHash } from 'node:crypto';

import { ConfigError } from '../../env';

/** One document of the manifest. */
export interface ManifestEntry {
  /** The lowercase hex SHA-256 of `body` (no `sha256:`). */
  id: string;
  /** The operation name the manifest gives (Apollo's format); null in a flat map. */
  name: string | null;
  /** The operation type the manifest gives (Apollo's format); null in a flat map. */
  type: string | null;
  body: string;
}

export const APOLLO_MANIFEST_FORMAT = 'apollo-persisted-query-manifest';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The lowercase hex SHA-256 of a text, as the manifest's ids are. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** How an entry is named in a start-up error: its id as written, and its operation name. */
export function entryLabel(id: string, name: string | null): string {
  const shown = id.length > 80 ? `${id.slice(0, 77)}...` : id;
  return `entry ${JSON.stringify(shown)} (${name === null ? 'no operation name' : `operation ${JSON.stringify(name.slice(0, 80))}`})`;
}

/** A start-up error about the manifest: one line, naming the variable, the file and what is wrong. */
export function manifestError(file: string, problem: string): ConfigError {
  return new ConfigError(`TRUSTED_DOCUMENTS ${JSON.stringify(file)}: ${problem.replace(/\s+/g, ' ')}`);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** An entry whose id is checked against its body: `rawId` as written (`sha256:` allowed). */
function checkedEntry(file: string, rawId: string, name: string | null, type: string | null, body: string): ManifestEntry {
  const label = entryLabel(rawId, name);
  const id = rawId.startsWith('sha256:') ? rawId.slice('sha256:'.length) : rawId;
  if (!SHA256_HEX.test(id)) throw manifestError(file, `${label}: the id must be the SHA-256 of the body in lowercase hex (64 digits, "sha256:" before them allowed)`);
  const actual = sha256Hex(body);
  if (actual !== id) throw manifestError(file, `${label}: the id is not the SHA-256 of the body (which is ${actual})`);
  return { id, name, type, body };
}

function apolloEntries(file: string, manifest: Record<string, unknown>): ManifestEntry[] {
  if (manifest.version !== 1) throw manifestError(file, `an ${APOLLO_MANIFEST_FORMAT} of version ${JSON.stringify(manifest.version)}: only version 1 is read`);
  if (!Array.isArray(manifest.operations)) throw manifestError(file, `an ${APOLLO_MANIFEST_FORMAT} must have an array "operations"`);
  return manifest.operations.map((operation: unknown, index) => {
    const at = `operation #${index}`;
    if (!isRecord(operation)) throw manifestError(file, `${at} is not an object`);
    const { id, name, type, body } = operation;
    if (typeof id !== 'string') throw manifestError(file, `${at}: "id" must be a string`);
    if (name !== undefined && name !== null && typeof name !== 'string') throw manifestError(file, `${entryLabel(id, null)}: "name" must be a string`);
    const named = typeof name === 'string' ? name : null;
    if (type !== undefined && type !== null && typeof type !== 'string') throw manifestError(file, `${entryLabel(id, named)}: "type" must be a string`);
    if (typeof body !== 'string') throw manifestError(file, `${entryLabel(id, named)}: "body" must be a string (the document)`);
    return checkedEntry(file, id, named, typeof type === 'string' ? type : null, body);
  });
}

function flatEntries(file: string, manifest: Record<string, unknown>): ManifestEntry[] {
  return Object.entries(manifest).map(([id, body]) => {
    if (typeof body !== 'string') throw manifestError(file, `${entryLabel(id, null)}: not a manifest: neither an ${APOLLO_MANIFEST_FORMAT} nor a map of ids to documents (strings)`);
    return checkedEntry(file, id, null, null, body);
  });
}

/**
 * The entries of a manifest's text, each id checked against its body; one entry per id (a
 * manifest may list a document twice). Throws a ConfigError naming `file` (and the entry) when
 * the text is not JSON, not one of the two shapes, lists nothing, or an id is not its body's
 * SHA-256. The documents themselves are checked by list.ts.
 */
export function parseManifest(text: string, file: string): ManifestEntry[] {
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw manifestError(file, `not JSON (${error instanceof Error ? error.message : 'unreadable'})`);
  }
  if (!isRecord(manifest)) throw manifestError(file, `not a manifest: neither an ${APOLLO_MANIFEST_FORMAT} nor a map of ids to documents (a JSON object)`);
  const apollo = 'format' in manifest || 'operations' in manifest;
  if (apollo && manifest.format !== APOLLO_MANIFEST_FORMAT) throw manifestError(file, `not a manifest: "format" must be "${APOLLO_MANIFEST_FORMAT}", got ${JSON.stringify(manifest.format)}`);
  const entries = apollo ? apolloEntries(file, manifest) : flatEntries(file, manifest);
  if (entries.length === 0) throw manifestError(file, 'the manifest lists no documents');
  return [...new Map(entries.map((entry) => [entry.id, entry])).values()];
}
