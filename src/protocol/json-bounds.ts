// Bounds on the shape of JSON cpwd accepts from outside (RPC params, fallback lines, event
// payloads). JSON.parse copes with any depth, but JSON.stringify and every recursive walk do not:
// a value nested a few thousand levels deep throws RangeError (stack overflow) wherever it is
// serialised next. So depth is checked once, at the boundary, by a walk that cannot overflow.
// No zod, no I/O: the hook shim may import this.

/** The deepest nesting of objects and arrays accepted from any boundary. */
export const MAX_JSON_DEPTH = 64;

/** The refusal of a message nested deeper than MAX_JSON_DEPTH (INVALID_PARAMS, `data.maxDepth`), whichever layer finds it. */
export const TOO_DEEP_MESSAGE = `invalid params: nested too deeply (a message may nest at most ${MAX_JSON_DEPTH} levels)`;

/** Up to this `maxDepth` the walk recurses (no allocation); deeper limits use an explicit stack. */
const RECURSIVE_MAX_DEPTH = 256;

/**
 * Whether `value` nests objects/arrays more than `maxDepth` levels deep; it stops at the first
 * level past the limit, so it is safe on any input. Up to RECURSIVE_MAX_DEPTH it recurses, which
 * allocates nothing (it runs on every appended event); past that an explicit stack keeps a deep
 * limit from overflowing the call stack.
 */
export function exceedsDepth(value: unknown, maxDepth = MAX_JSON_DEPTH): boolean {
  if (typeof value !== "object" || value === null) return false;
  return maxDepth <= RECURSIVE_MAX_DEPTH ? !nestsWithin(value, maxDepth) : exceedsDepthIteratively(value, maxDepth);
}

/** Whether `v` (an object or array) nests at most `levels` deep; recursion bounded by `levels`. */
function nestsWithin(v: object, levels: number): boolean {
  if (levels < 1) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const c: unknown = v[i];
      if (typeof c === "object" && c !== null && !nestsWithin(c, levels - 1)) return false;
    }
    return true;
  }
  // Own enumerable keys, as Object.values has them, without the array it would allocate.
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    const c: unknown = (v as Record<string, unknown>)[k];
    if (typeof c === "object" && c !== null && !nestsWithin(c, levels - 1)) return false;
  }
  return true;
}

function exceedsDepthIteratively(value: object, maxDepth: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > maxDepth) return true;
    const children = Array.isArray(v) ? v : Object.values(v as object);
    for (const c of children) if (typeof c === "object" && c !== null) stack.push([c, depth + 1]);
  }
  return false;
}

/**
 * Whether the JSON text `text` nests arrays and objects more than `maxDepth` levels deep, read
 * without parsing it (brackets inside strings are skipped). For refusing a line whose depth alone
 * condemns it before JSON.parse spends tens of milliseconds, and as many objects, on 100,000
 * levels. Text that is not JSON gives an answer JSON.parse will overrule: it is refused anyway.
 */
export function textExceedsDepth(text: string, maxDepth: number): boolean {
  if (text.length <= 2 * maxDepth) return false; // too short to open and close that many levels
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
