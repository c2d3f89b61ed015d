// Durations on the command line: "500ms", "10s", "30m", "2h", "1d" (or a bare number of seconds),
// and backoff ranges "1s..60s". Errors name the flag and the value.
import { usageError } from "../args.js";

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration to ms; throws INVALID_ARGUMENT naming `flag`. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw usageError(`--${flag}: '${text}' is not a duration (use e.g. 500ms, 10s, 30m, 2h)`);
  const ms = Number(m[1]) * UNITS[m[2] ?? "s"]!;
  if (!Number.isFinite(ms) || ms > 365 * UNITS.d!) throw usageError(`--${flag}: '${text}' is out of range`);
  return Math.round(ms);
}

/** Parses "BASE..MAX" (e.g. 1s..60s) into ms; BASE must not exceed MAX. */
export function parseRange(flag: string, text: string): { baseMs: number; maxMs: number } {
  const parts = text.split("..");
  if (parts.length !== 2) throw usageError(`--${flag}: '${text}' is not a range (use e.g. 1s..60s)`);
  const baseMs = parseDuration(flag, parts[0]!);
  const maxMs = parseDuration(flag, parts[1]!);
  if (baseMs > maxMs) throw usageError(`--${flag}: the first value must not exceed the second (${text})`);
  return { baseMs, maxMs };
}

/** "3d 4h", "2h 5m", "4m 10s", "12s", "850ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = Math.floor(ms / 1000);
  const [d, h, m, sec] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}
