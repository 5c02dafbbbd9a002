/**
 * "Did you mean …?" for a mistyped command or flag: the closest known name by edit distance,
 * offered only when it is near enough that the mistake is plausibly a typo.
 */

/** Levenshtein distance over UTF-16 code units; names here are short ASCII words. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The known name closest to `typed`, or undefined when none is within a third of its length
 * (at least 2 edits), so "mercant" finds "merchant" but "xyz" finds nothing.
 *
 * @example closestName('tali', ['tail', 'keys']) === 'tail'
 */
export function closestName(typed: string, known: readonly string[]): string | undefined {
  const allowed = Math.max(2, Math.floor(typed.length / 3));
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = name.startsWith(typed) && typed.length >= 3 ? 1 : editDistance(typed, name);
    if (distance <= allowed && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** `Did you mean "x"?` when a close name exists, else an empty string. */
export function didYouMean(typed: string, known: readonly string[]): string {
  const name = closestName(typed, known);
  return name ? ` Did you mean "${name}"?` : '';
}
