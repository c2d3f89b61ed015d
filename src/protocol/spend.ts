// Claude spend as `status` reports it (`claudeSpend`), and how cpwd writes a USD amount for people.
// Pure and without imports: the daemon's budget and `cpwd status` both use it.

/** Today's spend of all Claude workers, and the budget (null: none). */
export interface DaySpend {
  spentUsd: number;
  budgetUsd: number | null;
}

/** USD for people: cents from $1 up and for whole cents ($0.50), else four places (tiny runs cost fractions of a cent). */
export function usd(x: number): string {
  const wholeCents = Math.abs(x * 100 - Math.round(x * 100)) < 1e-6;
  return `$${x.toFixed(x >= 1 || wholeCents ? 2 : 4)}`;
}
