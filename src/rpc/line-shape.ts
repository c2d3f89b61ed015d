// What a complete line's nesting and batch size are, read in one pass over its text before it is
// parsed, so that lines whose shape alone settles their answer cost no parse: parsing builds every
// object the line names, and under hostile load that garbage (a 4,000-entry batch refused for its
// size, params 5,000 arrays deep refused for their depth) was most of the daemon's scavenges, each
// a pause every connection waits through.

/** The limits a line is read against. */
export interface LineShapeLimits {
  /** Nested deeper than this: refused unparsed. */
  maxDepth: number;
  /**
   * Values nested this deep or deeper are collapsed to `[]` before parsing, and the line's reader
   * must then refuse the entries they were in (`collapsed`) without running them, whatever else
   * they hold: nothing a client may send nests that deep (params may nest 64 levels: keep this well
   * above that), and what was collapsed was never checked, so it may not even be valid JSON.
   */
  collapseDepth: number;
  /** A batch of more entries is refused unparsed. */
  maxBatchEntries: number;
}

/** What one pass over a line found. */
export interface LineShape {
  /** Nested deeper than `maxDepth`. */
  tooDeep: boolean;
  /** The entries of a top-level array with more than `maxBatchEntries` of them; else 0. */
  oversizeBatchEntries: number;
  /** The text to parse: the line, or the line with its values past `collapseDepth` collapsed. */
  text: string;
  /**
   * The entries that had a value collapsed, to be refused unrun: their indexes in a top-level
   * array (a batch), or 0 for a line that is not one; null when nothing was collapsed.
   */
  collapsed: Set<number> | null;
}

/** What each ASCII character is to the scan; every other character (and any above 127) is skipped. */
const QUOTE = 1;
const OPEN = 2;
const CLOSE = 3;
const COMMA = 4;
const CHAR_CLASS = new Uint8Array(128);
CHAR_CLASS[0x22] = QUOTE;
CHAR_CLASS[0x5b] = OPEN; // [
CHAR_CLASS[0x7b] = OPEN; // {
CHAR_CLASS[0x5d] = CLOSE; // ]
CHAR_CLASS[0x7d] = CLOSE; // }
CHAR_CLASS[0x2c] = COMMA;

/**
 * Reads `text`'s shape (brackets inside strings are skipped). Short lines, the usual ones, are not
 * scanned at all; in a long one a string is jumped over with indexOf (a 10,000-character method
 * name costs nothing), so a scan costs a fraction of the parse it saves.
 */
export function readLineShape(text: string, limits: LineShapeLimits): LineShape {
  const { maxDepth, collapseDepth, maxBatchEntries } = limits;
  const n = text.length;
  // Too short to open that many levels, or to hold that many entries and their commas.
  if (n < 2 * Math.min(collapseDepth, maxDepth + 1) && n <= 2 * maxBatchEntries) return { tooDeep: false, oversizeBatchEntries: 0, text, collapsed: null };
  const topIsArray = text.charCodeAt(firstNonBlank(text)) === 0x5b;
  let depth = 0;
  let topCommas = 0;
  let parts: string[] | null = null;
  let copiedTo = 0;
  let collapseFrom = -1;
  let collapsed: Set<number> | null = null;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) continue;
    switch (CHAR_CLASS[c]) {
      case QUOTE:
        i = closingQuote(text, i);
        break;
      case OPEN:
        if (++depth > maxDepth) return { tooDeep: true, oversizeBatchEntries: 0, text, collapsed: null };
        if (depth === collapseDepth) {
          collapseFrom = i;
          (collapsed ??= new Set()).add(topIsArray ? topCommas : 0);
        }
        break;
      case CLOSE:
        if (depth === collapseDepth && collapseFrom !== -1) {
          (parts ??= []).push(text.slice(copiedTo, collapseFrom), "[]");
          copiedTo = i + 1;
          collapseFrom = -1;
        }
        depth--;
        break;
      case COMMA:
        if (depth === 1) topCommas++;
        break;
    }
  }
  const entries = topIsArray ? topCommas + 1 : 0;
  const oversizeBatchEntries = entries > maxBatchEntries ? entries : 0;
  // A collapse left open means the line is cut short: parsed whole, it gets its parse error.
  if (parts === null || collapseFrom !== -1) return { tooDeep: false, oversizeBatchEntries, text, collapsed: null };
  parts.push(text.slice(copiedTo));
  return { tooDeep: false, oversizeBatchEntries, text: parts.join(""), collapsed };
}

/** The index of `text`'s first character that is not JSON whitespace (space, tab, CR, LF). */
function firstNonBlank(text: string): number {
  let i = 0;
  for (let c = text.charCodeAt(0); c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a; c = text.charCodeAt(++i));
  return i;
}

/** Where the string opened at `open` ends (its unescaped closing quote), or the text's end. */
function closingQuote(text: string, open: number): number {
  let q = open;
  for (;;) {
    q = text.indexOf('"', q + 1);
    if (q === -1) return text.length;
    let b = q - 1;
    while (text.charCodeAt(b) === 0x5c) b--; // the opening quote stops this
    if ((q - 1 - b) % 2 === 0) return q; // an even run of backslashes escapes nothing
  }
}
