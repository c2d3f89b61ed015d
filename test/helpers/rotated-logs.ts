// Reading what a log rotation left: the numbered copies and the dropped-bytes line that may open one.
import { existsSync, readFileSync } from "node:fs";

/** The rotated copies `live.1` … in order, newest first. */
export function rotated(live: string): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 1; existsSync(`${live}.${i}`); i++) out.push(readFileSync(`${live}.${i}`));
  return out;
}

/** `[cpwd: N earlier bytes dropped …]\n` at the top of a piece: N and the rest; null without it. */
export function droppedHeader(piece: Buffer): { dropped: number; rest: Buffer } | null {
  const m = /^\[cpwd: (\d+) earlier bytes dropped[^\n]*\n/.exec(piece.subarray(0, 200).toString("latin1"));
  return m ? { dropped: Number(m[1]), rest: piece.subarray(m[0].length) } : null;
}
