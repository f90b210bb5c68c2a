import type { AcceleratorType, ReservationRule } from './types.ts';

/** The reservation rules a catalog can name. */
export const reservationRules: readonly ReservationRule[] = ['gke', 'none'];

/** The meaning and valid range of a numeric catalog field. */
export interface NumberRule {
  /** The quantity in words, for messages: "a price in USD per hour". */
  description: string;
  example: string;
  minimum: 'zero' | 'positive' | 'positive-integer';
}

export const priceRule: NumberRule = { description: 'a price in USD per hour', example: '0.0475', minimum: 'zero' };
export const vcpusRule: NumberRule = { description: 'a vCPU count', example: '4', minimum: 'positive' };
export const memoryRule: NumberRule = { description: 'a memory size in GiB', example: '15', minimum: 'positive' };
export const cpuSpeedRule: NumberRule = {
  description: 'a CPU speed relative to the reference family (1 = as fast per core)',
  example: '1.0',
  minimum: 'positive',
};
export const countRule: NumberRule = { description: 'an accelerator count per node', example: '1', minimum: 'positive-integer' };

const numberText = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses a plain decimal number as written in a CSV field; returns undefined for anything else. */
export function parseNumberText(text: string): number | undefined {
  if (!numberText.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Returns the message for a value that is not a number at all. `writtenValue` is the value as the user wrote it. */
export function notANumberMessage(label: string, writtenValue: string, rule: NumberRule): string {
  return `invalid ${label} (${writtenValue}) — it must be ${rule.description}; write a plain number such as ${rule.example}, without a currency sign or unit`;
}

/** Returns the message for a number outside the rule's range, or undefined when the number is valid. */
export function checkNumberRange(label: string, value: number, rule: NumberRule): string | undefined {
  if (rule.minimum === 'zero' && value < 0) {
    return `negative ${label} (${value}) — ${rule.description} is 0 or more; fix the sign`;
  }
  if (rule.minimum === 'positive' && value <= 0) {
    return `invalid ${label} (${value}) — ${rule.description} must be more than 0; give the real value, such as ${rule.example}`;
  }
  if (rule.minimum === 'positive-integer' && (!Number.isInteger(value) || value < 1)) {
    return `invalid ${label} (${value}) — ${rule.description} is a whole number of 1 or more; give the number of devices, such as ${rule.example}`;
  }
  return undefined;
}

/** Reads a CSV field's number under a rule: the value, or the message for a field that is not one or is out of range. */
export function readNumberField(label: string, text: string, rule: NumberRule): { value: number; message?: undefined } | { value?: undefined; message: string } {
  const value = parseNumberText(text);
  if (value === undefined) return { message: notANumberMessage(label, JSON.stringify(text), rule) };
  const message = checkNumberRange(label, value, rule);
  return message ? { message } : { value };
}

/** Returns the message for an invalid reservation rule name, or undefined when it is valid. */
export function checkReservation(label: string, value: string): string | undefined {
  if ((reservationRules as readonly string[]).includes(value)) return undefined;
  return `unknown ${label} (${JSON.stringify(value)}) — it must be gke (GKE's documented node reservation) or none (pods may use the whole machine); write one of them`;
}

/** Returns the message for a date that is not a real YYYY-MM-DD calendar date, or undefined when it is one. */
export function checkDate(label: string, value: string): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const parsed = match ? new Date(`${value}T00:00:00Z`) : undefined;
  if (parsed && !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(value)) return undefined;
  return `invalid ${label} (${JSON.stringify(value)}) — the date the prices were taken is written YYYY-MM-DD; write it as, for example, 2024-05-20`;
}

const patternSyntax = /^[a-z0-9*][a-z0-9*-]*$/;

/** Returns the message for an attach-to pattern with characters a machine type name cannot have. */
export function checkPatternSyntax(label: string, pattern: string): string | undefined {
  if (patternSyntax.test(pattern)) return undefined;
  return `invalid ${label} pattern (${JSON.stringify(pattern)}) — a pattern is a machine type name in lowercase letters, digits and hyphens, with * for any characters, such as n1-*; fix the pattern`;
}

/** Tells whether a machine type name matches a pattern in which `*` stands for any run of characters. */
export function matchesPattern(machineName: string, pattern: string): boolean {
  const parts = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`).test(machineName);
}

/** Tells whether an accelerator can be attached to nodes of the named machine type. */
export function canAttach(accelerator: AcceleratorType, machineName: string): boolean {
  return accelerator.attachTo.some((pattern) => matchesPattern(machineName, pattern));
}
