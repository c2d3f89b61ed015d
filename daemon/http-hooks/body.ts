// Reading an HTTP hook's request body within bounds: whole up to the RPC's message limit; past it
// only its first 64 KiB are kept (what salvageHookInput needs to still deny a huge Write to a held
// file, as the shim does) and the rest is read and dropped, up to a hard cap past which it is refused.
import type { IncomingMessage } from "node:http";

/** How much of an oversized body is kept to salvage the fields cpwd needs (as the shim's HEAD_BYTES). */
export const HEAD_BYTES = 64 * 1024;

/** What a body read gives: the whole text, only its head (it was over the limit), or a refusal. */
export type BodyRead = { text: string } | { head: string; bytes: number } | { tooLarge: true } | { aborted: true };

/**
 * Reads `req`'s body. Over `maxBytes` it keeps only the head; over `capBytes` (or a
 * Content-Length saying so) it stops and reports `tooLarge` without reading further.
 */
export function readHookBody(req: IncomingMessage, maxBytes: number, capBytes: number): Promise<BodyRead> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > capBytes) return Promise.resolve({ tooLarge: true });
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let bytes = 0;
    let head: Buffer | null = null;
    const done = (r: BodyRead) => {
      req.removeAllListeners("data");
      resolve(r);
    };
    req.on("data", (c: Buffer) => {
      bytes += c.length;
      if (bytes > capBytes) return done({ tooLarge: true });
      if (head !== null) return; // past the limit: read and dropped
      chunks.push(c);
      if (bytes > maxBytes) {
        head = Buffer.concat(chunks).subarray(0, HEAD_BYTES);
        chunks = [];
      }
    });
    req.on("end", () => done(head !== null ? { head: head.toString("utf8"), bytes } : { text: Buffer.concat(chunks).toString("utf8") }));
    req.on("aborted", () => done({ aborted: true }));
    req.on("error", () => done({ aborted: true }));
  });
}
