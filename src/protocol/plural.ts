// Counted nouns in what cpwd says: "1 turn", "3 turns". One helper, so no message says "1 turns".

/** `n` and the noun, singular for exactly 1: plural(1, "run") → "1 run"; `many` for irregular plurals. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
