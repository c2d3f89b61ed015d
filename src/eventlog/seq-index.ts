// A sparse index from seq to byte offset in events.jsonl, so `events.read` from any seq starts
// reading near it instead of at the top of a long log.

/** Every `stride`-th event's offset is kept. */
export class SeqIndex {
  private readonly seqs: number[] = [];
  private readonly offsets: number[] = [];

  constructor(private readonly stride = 1000) {}

  /** Records an event's offset; call in seq order. */
  note(seq: number, offset: number): void {
    if (this.seqs.length === 0 || seq - this.seqs[this.seqs.length - 1]! >= this.stride) {
      this.seqs.push(seq);
      this.offsets.push(offset);
    }
  }

  /** The offset of the last indexed event with seq ≤ `seq`, or 0. */
  offsetFor(seq: number): number {
    let lo = 0;
    let hi = this.seqs.length - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid]! <= seq) {
        best = this.offsets[mid]!;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }
}
