// output.log (src/records/output-log.ts) and how `cpwd logs` reads it (cli/log-sources.ts): records
// parse back to their stream, time and bytes; pieces of a line join into one; one stream can be
// picked; a rotated (truncated) file is read from its start again; what does not parse is a note.
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { TimelineSource, type OutputLine } from "../../cli/log-sources.js";
import { parseOutputRecord } from "../../src/records/output-log.js";

const text = (lines: OutputLine[] | null) => (lines ?? []).map((l) => `${l.stream ?? "note"}${l.ended ? "" : "…"}@${l.ms ?? "-"} ${l.bytes.toString()}`);

function withFile(body: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "cpwd-output-log-"));
  try {
    body(join(dir, "output.log"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("a record gives back its time, its stream, its bytes and whether the line goes on", () => {
  const r = parseOutputRecord(Buffer.from("1764283986662 e+ half a line: é"));
  assert.deepEqual([r.ms, r.stream, r.bytes.toString(), r.continues], [1764283986662, "stderr", "half a line: é", true]);
  const empty = parseOutputRecord(Buffer.from("5 o "));
  assert.deepEqual([empty.ms, empty.stream, empty.bytes.length, empty.continues], [5, "stdout", 0, false]);
  for (const note of ["[cpwd: 12 earlier bytes dropped: written faster than rotation could keep]", "12 x line", "12 o", "", "abc o line"]) {
    const n = parseOutputRecord(Buffer.from(note));
    assert.deepEqual([n.stream, n.ms, n.bytes.toString()], [null, null, note], JSON.stringify(note));
  }
});

test("the last lines of both streams in order, a line in pieces joined where it was finished, then what is appended, then an unfinished line", () => {
  withFile((file) => {
    writeFileSync(file, "1 o a\n2 o+ par\n3 e b\n4 o tial\n5 e c\n");
    const src = new TimelineSource(file, new Set(["stdout", "stderr"]), { lines: 3, raw: false });
    // The last 3 lines, from the first piece of the one in pieces.
    assert.deepEqual(text(src.initial()), ["stderr@3 b", "stdout@4 partial", "stderr@5 c"]);
    assert.equal(src.initial(), null, "all of it given");
    appendFileSync(file, "6 o d\n7 e+ unfin");
    assert.deepEqual(text(src.read()), ["stdout@6 d"]);
    assert.deepEqual(text(src.rest()), ["stderr…@7 unfin"]);
  });
});

test("one stream alone; raw gives the pieces as written; a truncated file is read from its start", () => {
  withFile((file) => {
    writeFileSync(file, "1 o a\n2 e x\n3 o+ b\n4 o c\n");
    assert.deepEqual(text(new TimelineSource(file, new Set(["stderr"]), { lines: null, raw: false }).initial()), ["stderr@2 x"]);
    assert.deepEqual(text(new TimelineSource(file, new Set(["stdout"]), { lines: null, raw: true }).initial()), ["stdout@1 a", "stdout…@3 b", "stdout@4 c"]);
    const src = new TimelineSource(file, new Set(["stdout", "stderr"]), { lines: null, raw: false });
    assert.deepEqual(text(src.initial()), ["stdout@1 a", "stderr@2 x", "stdout@4 bc"]);
    truncateSync(file, 0);
    appendFileSync(file, "[cpwd: 9 earlier bytes dropped: written faster than rotation could keep]\n8 e after\n");
    assert.deepEqual(text(src.read()), ["note@- [cpwd: 9 earlier bytes dropped: written faster than rotation could keep]", "stderr@8 after"]);
  });
});
