// The deadline of one connection's unfinished message (slow-client protection), which stands
// still while the server itself is not reading that connection.

/**
 * The deadline of a message left unfinished, counted from its first byte. It stands still while
 * the server itself has paused reading the connection (too many of its calls unanswered): the
 * client may have sent the rest already, and it is us not reading it. It resumes with the time
 * that was left.
 */
export class PartialMessageDeadline {
  private timer: NodeJS.Timeout | undefined;
  private dueAtMs = 0;
  /** Time left while paused with a message unfinished; null when not paused or none is. */
  private leftMs: number | null = null;
  private paused = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly expired: () => void,
  ) {}

  /** True while a deadline runs or stands paused. */
  get running(): boolean {
    return this.timer !== undefined || this.leftMs !== null;
  }

  /** A new message began: its deadline is the full timeout (from now, or from resuming). */
  start(): void {
    this.stop();
    if (this.paused) this.leftMs = this.timeoutMs;
    else this.arm(this.timeoutMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.leftMs = null;
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.leftMs = Math.max(0, this.dueAtMs - Date.now());
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const left = this.leftMs;
    this.leftMs = null;
    if (left !== null) this.arm(left);
  }

  private arm(ms: number): void {
    this.dueAtMs = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.expired();
    }, ms);
    this.timer.unref();
  }
}
