/** The small HTTP helpers the simulator's routes share: read a bounded body, send a JSON answer, decode a path segment. */
import type http from 'node:http';

/** A route: answers one request, given its raw path and raw query string (split at the first `?`). */
export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse, rawPath: string, rawQuery: string) => Promise<void>;

export function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

export function readBody(req: http.IncomingMessage, limit = 65_536): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) { reject(new Error('body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** `decodeURIComponent`, or the segment as it is when it is not valid percent-encoding. */
export function safeDecode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}
