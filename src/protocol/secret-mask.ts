// Values of environment variables whose names look secret (`*_KEY`, `*_TOKEN`, `*SECRET*`,
// `*PASSWORD*` by default, config `secretEnvNames`), kept out of everything cpwd shows or records:
// events.jsonl, `status` and every other RPC result, and the digests a session is told. A worker's
// environment itself is never recorded (spec.json keeps it, 0600), but its values travel in other
// ways: a shell expands `--token "$DEPLOY_TOKEN"` into the argv, a Claude worker quotes one in its
// result. Each occurrence of such a value, in any string or key, becomes "[redacted]". Pure: the
// daemon feeds it the environments it learns of (its own, and each worker's).

/** What a secret value becomes. */
export const REDACTED = "[redacted]";

/** Shorter values are not masked: `USE_SECRETS=1` must not blank out every "1". */
export const MIN_SECRET_CHARS = 6;

/** The default patterns of secret-looking variable names (config `secretEnvNames`). */
export const DEFAULT_SECRET_ENV_NAMES = ["*_KEY", "*_TOKEN", "*SECRET*", "*PASSWORD*"] as const;

/** A matcher for names against glob patterns (`*` is any run of characters), case-insensitively. */
export function secretNameMatcher(patterns: readonly string[]): (name: string) => boolean {
  const res = patterns.map((p) => new RegExp(`^${p.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i"));
  return (name) => res.some((re) => re.test(name));
}

/** The set of secret values to mask, and the masking. */
export class SecretMask {
  private readonly values = new Set<string>();
  /** Each value as it appears inside a JSON string, for the quick test on a serialised line. */
  private readonly escaped = new Set<string>();
  private readonly isSecretName: (name: string) => boolean;

  constructor(patterns: readonly string[] = DEFAULT_SECRET_ENV_NAMES) {
    this.isSecretName = secretNameMatcher(patterns);
  }

  /** Learns the values of `env` whose names look secret. */
  addEnv(env: Readonly<Record<string, string | undefined>>): void {
    for (const [name, value] of Object.entries(env)) {
      if (value === undefined || value.length < MIN_SECRET_CHARS || !this.isSecretName(name) || this.values.has(value)) continue;
      this.values.add(value);
      this.escaped.add(JSON.stringify(value).slice(1, -1));
    }
  }

  get size(): number {
    return this.values.size;
  }

  /** `text` with every secret value in it replaced. */
  scrubText(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }

  /** Whether the JSON text `json` may hold a secret value (its escaped form appears in it). */
  mayHold(json: string): boolean {
    for (const e of this.escaped) if (json.includes(e)) return true;
    return false;
  }

  /**
   * `value` with every secret in its strings and keys replaced: the same object when there is
   * none, else a copy of what changed (what is shared is never modified). Recursive: what it is
   * given (event payloads, RPC results) is bounded to 64 levels where it enters.
   */
  scrub<T>(value: T): T {
    // The cheap test first, as `mayHold` is for a line: most results hold no secret, and finding
    // that out allocates nothing, where the copying walk allocates an entry list per object.
    return this.values.size === 0 || !this.holds(value) ? value : (this.walk(value) as T);
  }

  /** Whether any string or key in `v` contains a secret value; allocates nothing. */
  private holds(v: unknown): boolean {
    if (typeof v === "string") return this.inText(v);
    if (typeof v !== "object" || v === null) return false;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (this.holds(v[i])) return true;
      return false;
    }
    for (const k in v) {
      if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
      if (this.inText(k) || this.holds((v as Record<string, unknown>)[k])) return true;
    }
    return false;
  }

  private inText(text: string): boolean {
    for (const s of this.values) if (text.includes(s)) return true;
    return false;
  }

  private walk(v: unknown): unknown {
    if (typeof v === "string") return this.scrubText(v);
    if (typeof v !== "object" || v === null) return v;
    if (Array.isArray(v)) {
      let copy: unknown[] | null = null;
      v.forEach((x, i) => {
        const y = this.walk(x);
        if (y !== x) (copy ??= [...v])[i] = y;
      });
      return copy ?? v;
    }
    let copy: Record<string, unknown> | null = null;
    for (const [k, x] of Object.entries(v)) {
      const key = this.scrubText(k);
      const y = this.walk(x);
      if (y === x && key === k) continue;
      copy ??= { ...(v as Record<string, unknown>) };
      if (key !== k) delete copy[k];
      copy[key] = y;
    }
    return copy ?? v;
  }
}
