/**
 * The known name closest to a misspelt one ("drainSecond" → "drainSeconds"), for
 * "did you mean" hints. Edit distance (Levenshtein, case-insensitive), bounded so an
 * unrelated key gets no suggestion rather than a misleading one.
 */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  const want = name.toLowerCase();
  // Up to a third of the name may differ (two edits at least: "maxSesions", "gs0").
  const limit = Math.max(2, Math.floor(want.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    const d = editDistance(want, candidate.toLowerCase(), bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance of a and b; stops early (returns `cap`) once it cannot be below `cap`. */
export function editDistance(a: string, b: string, cap = Infinity): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= cap) return cap;
    prev = row;
  }
  return Math.min(prev[b.length], cap);
}
