/**
 * Kubernetes quantities and durations. The quantity grammar is the one of the Kubernetes API's
 * `resource.Quantity`: a signed decimal number with an optional binary suffix (Ki, Mi, Gi, Ti, Pi, Ei),
 * decimal suffix (n, u, m, k, M, G, T, P, E) or decimal exponent (e3, E6).
 */

const binarySuffixes: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const decimalSuffixes: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const quantityPattern = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E))?$/;

/** Parses a Kubernetes quantity into its value in base units, or returns undefined when it is invalid. */
export function parseQuantity(text: string): number | undefined {
  const match = quantityPattern.exec(text.trim());
  if (!match) return undefined;

  const [, number, binary, exponent, decimal] = match;
  const base = Number(number);
  if (binary) return base * binarySuffixes[binary]!;
  if (exponent) return base * 10 ** Number(exponent.slice(1));
  return base * decimalSuffixes[decimal ?? '']!;
}

/**
 * Suggests a valid quantity for a common mistake (`20Gb`, `20GB`, `1.5 Gi`, `512mb`), or undefined.
 * Memory written with a `b`/`B` byte suffix most often means the binary unit, so `20Gb` becomes `20Gi`.
 */
export function suggestQuantity(text: string): string | undefined {
  const compact = text.replace(/\s+/g, '');
  if (compact !== text && parseQuantity(compact) !== undefined) return compact;

  const match = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([kKmMgGtTpPeE])(?:i?[bB]|iB)?$/.exec(compact);
  if (match) {
    const candidate = `${match[1]}${match[2]!.toUpperCase() === 'K' ? 'K' : match[2]!.toUpperCase()}i`;
    if (parseQuantity(candidate) !== undefined) return candidate;
  }

  const bytes = /^([+-]?\d+)\s*[bB](?:ytes?)?$/.exec(compact);
  if (bytes) return bytes[1];
  return undefined;
}

/** Formats a CPU amount in cores as Kubernetes writes it: whole cores as `2`, fractions in millicores as `250m`. */
export function formatCpu(cores: number): string {
  if (Number.isInteger(cores)) return String(cores);
  return `${Math.round(cores * 1000)}m`;
}

/** Formats a byte count with the largest binary suffix that divides it exactly (`1073741824` → `1Gi`). */
export function formatBytes(bytes: number): string {
  for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
    const unit = binarySuffixes[suffix]!;
    if (bytes >= unit && Number.isInteger(bytes / unit)) return `${bytes / unit}${suffix}`;
  }
  return String(Math.round(bytes));
}

/** Formats a byte count for people, with one decimal in the largest fitting binary unit (`2.7 GiB`). */
export function describeBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 'B';
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return unit === 'B' ? `${bytes} B` : `${Number(value.toFixed(2))} ${unit}`;
}

const durationPattern = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?$/;

/**
 * Parses a duration such as `90s`, `2m`, `1h30m` or a bare number of seconds, and returns seconds,
 * or undefined when the text is not a positive duration.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) {
    const seconds = Number(trimmed);
    return seconds > 0 ? seconds : undefined;
  }

  const match = durationPattern.exec(trimmed);
  if (!match || trimmed === '') return undefined;
  const [, hours, minutes, seconds] = match;
  const total = Number(hours ?? 0) * 3600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0);
  return total > 0 ? total : undefined;
}

/** Formats seconds for people: `64.2 s` below ten minutes, then `28 min 45 s` and `2 h 5 min`. */
export function describeDuration(seconds: number): string {
  if (seconds < 600) return `${Number(seconds.toFixed(1))} s`;
  if (seconds < 3600) {
    const minutes = Math.floor(seconds / 60);
    return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  }
  const hours = Math.floor(seconds / 3600);
  return `${hours} h ${Math.round((seconds - hours * 3600) / 60)} min`;
}
