/** The longest DNS-1123 label, and so the longest container or label-valued name, Kubernetes accepts. */
export const maxLabelLength = 63;

const labelPattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit. */
export function isDnsLabel(name: string): boolean {
  return name.length <= maxLabelLength && labelPattern.test(name);
}

/**
 * Converts a Python name to a DNS-1123 label candidate: lowercase, '_' and '.' become '-', other
 * characters outside [a-z0-9-] are dropped, and leading or trailing '-' are trimmed. The result can
 * still be empty or too long; callers check it with `isDnsLabel`.
 */
export function toDnsLabel(name: string): string {
  return name
    .toLowerCase()
    .replace(/[_.\s]+/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * Returns the closest name by edit distance when it is close enough to be a likely typo, else undefined.
 * A name may differ in one character per three, and names shorter than three characters must match.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.floor(name.length / 3);
  return bestDistance <= allowed ? best : undefined;
}

/** Counts the edits (insert, delete, replace, swap of neighbours) between two names: `claen` is one from `clean`. */
function editDistance(left: string, right: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let i = 1; i <= left.length; i++) {
    const current = [i];
    for (let j = 1; j <= right.length; j++) {
      const substitution = previous[j - 1]! + (left[i - 1] === right[j - 1] ? 0 : 1);
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
      const swapped = i > 1 && j > 1 && left[i - 1] === right[j - 2] && left[i - 2] === right[j - 1];
      if (swapped) best = Math.min(best, beforePrevious[j - 2]! + 1);
      current.push(best);
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[right.length]!;
}
