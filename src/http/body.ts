/** Reads a request body within a size limit, before any pipeline sees it. */
import type http from 'node:http';

/** The body is larger than the limit (by its Content-Length, or as it arrives). */
export class BodyTooLargeError extends Error {}

/**
 * The client went away before its body arrived: it stopped half-way, or its chunked framing broke
 * (Node's parser then answers 400 itself, http/server.ts). Nobody is left to answer.
 */
export class BodyAbortedError extends Error {}

/** The whole body as UTF-8 text; rejects with BodyTooLargeError past `limit` bytes, BodyAbortedError when it breaks off. */
export function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > limit) { reject(new BodyTooLargeError()); return; }
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) { reject(new BodyTooLargeError()); req.removeAllListeners('data'); req.resume(); return; }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => reject(new BodyAbortedError())); // Node's `aborted` (ECONNRESET), whatever broke the body
    req.on('close', () => { if (!req.complete) reject(new BodyAbortedError()); });
  });
}
