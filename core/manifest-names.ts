import { createHash } from 'node:crypto';
import { maxLabelLength, toDnsLabel } from './names.ts';

/**
 * Converts text to a DNS-1123 label as `toDnsLabel` of ./names.ts does, then shortens it to at most
 * `maxLength` characters (see `shortenName`). Returns `fallback` when nothing is left, as for `__init__`.
 */
export function toDnsLabelOr(text: string, fallback: string, maxLength = maxLabelLength): string {
  const label = toDnsLabel(text);
  return shortenName(label === '' ? fallback : label, maxLength);
}

/**
 * Shortens a name made of DNS-1123 labels to at most `maxLength` characters. A longer name keeps its
 * beginning and ends with `-` and the first 8 hex digits of the SHA-256 of the full name, so two long names
 * that share a beginning stay distinct. The result never ends with `-`.
 */
export function shortenName(name: string, maxLength = maxLabelLength): string {
  if (name.length <= maxLength) return name;

  const hash = shortHash(name);
  const head = name.slice(0, maxLength - hash.length - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}

/** Returns the first 8 hex digits of the SHA-256 of `text`. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * Joins DNS-1123 labels with `-` and shortens the result to at most `maxLength` characters. Each part must
 * already be a label.
 */
export function joinName(parts: string[], maxLength = maxLabelLength): string {
  return shortenName(parts.filter((part) => part !== '').join('-'), maxLength);
}

/** Characters of a ConfigMap key: letters, digits, `-`, `_` and `.`. */
const configMapKeyPattern = /^[-._a-zA-Z0-9]+$/;

/**
 * Tells whether `key` can be a key of a ConfigMap's `data`. Kubernetes' rule: at most 253 characters of
 * `configMapKeyPattern`, neither `.` nor `..`, and not starting with `..`.
 */
export function isConfigMapKey(key: string): boolean {
  return key.length <= 253 && configMapKeyPattern.test(key) && key !== '.' && !key.startsWith('..');
}
