import { InputError } from '../core/errors.ts';

/** Line and column (from 1) where a JSON value or key starts. */
export interface JsonPosition {
  line: number;
  column: number;
}

/** A parsed JSON value that remembers where it was written, so that messages can point at it. */
export type JsonNode =
  | { kind: 'object'; at: JsonPosition; entries: JsonEntry[] }
  | { kind: 'array'; at: JsonPosition; items: JsonNode[] }
  | { kind: 'string'; at: JsonPosition; value: string }
  | { kind: 'number'; at: JsonPosition; value: number }
  | { kind: 'boolean'; at: JsonPosition; value: boolean }
  | { kind: 'null'; at: JsonPosition };

export interface JsonEntry {
  key: string;
  keyAt: JsonPosition;
  value: JsonNode;
}

/**
 * Parses JSON text (RFC 8259) into nodes with positions.
 * @throws InputError at the first syntax error, with its line and column.
 */
export function parseJsonWithPositions(text: string, file: string): JsonNode {
  const reader = new JsonReader(text.startsWith('\uFEFF') ? text.slice(1) : text, file);
  reader.skipWhitespace();
  const node = reader.readValue();
  reader.skipWhitespace();
  if (!reader.atEnd()) reader.fail('text after the end of the JSON value', 'remove it, or wrap several values in one array');
  return node;
}

/** Returns the plain JavaScript value of a node. */
export function toPlainValue(node: JsonNode): unknown {
  switch (node.kind) {
    case 'object':
      return Object.fromEntries(node.entries.map((entry) => [entry.key, toPlainValue(entry.value)]));
    case 'array':
      return node.items.map(toPlainValue);
    case 'null':
      return null;
    default:
      return node.value;
  }
}

class JsonReader {
  private offset = 0;
  private line = 1;
  private column = 1;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  atEnd(): boolean {
    return this.offset >= this.text.length;
  }

  position(): JsonPosition {
    return { line: this.line, column: this.column };
  }

  fail(problem: string, fix: string): never {
    const found = this.atEnd() ? 'end of file' : JSON.stringify(this.text[this.offset]);
    throw new InputError([
      { location: { file: this.file, ...this.position() }, message: `invalid JSON: ${problem} (found ${found}) — ${fix}` },
    ]);
  }

  skipWhitespace(): void {
    while (!this.atEnd() && ' \t\r\n'.includes(this.text[this.offset]!)) this.advance();
  }

  readValue(): JsonNode {
    const at = this.position();
    const character = this.text[this.offset];
    if (character === '{') return this.readObject(at);
    if (character === '[') return this.readArray(at);
    if (character === '"') return { kind: 'string', at, value: this.readString() };
    if (character === '-' || (character !== undefined && character >= '0' && character <= '9')) {
      return { kind: 'number', at, value: this.readNumber() };
    }
    for (const [word, node] of [
      ['true', { kind: 'boolean', at, value: true }],
      ['false', { kind: 'boolean', at, value: false }],
      ['null', { kind: 'null', at }],
    ] as const) {
      if (this.text.startsWith(word, this.offset)) {
        for (let index = 0; index < word.length; index += 1) this.advance();
        return node;
      }
    }
    return this.fail('expected a value', 'write a string in double quotes, a number, an object, an array, true, false or null');
  }

  private readObject(at: JsonPosition): JsonNode {
    const entries: JsonEntry[] = [];
    this.advance();
    this.skipWhitespace();
    if (this.text[this.offset] === '}') {
      this.advance();
      return { kind: 'object', at, entries };
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.offset] !== '"') this.fail('expected a property name in double quotes', 'quote the name, and remove any comma before the closing }');
      const keyAt = this.position();
      const key = this.readString();
      this.skipWhitespace();
      if (this.text[this.offset] !== ':') this.fail('expected ":" after a property name', 'add the colon');
      this.advance();
      this.skipWhitespace();
      entries.push({ key, keyAt, value: this.readValue() });
      this.skipWhitespace();
      if (this.text[this.offset] === ',') {
        this.advance();
        continue;
      }
      if (this.text[this.offset] === '}') {
        this.advance();
        return { kind: 'object', at, entries };
      }
      this.fail('expected "," or "}" after a property', 'add the missing comma or closing brace');
    }
  }

  private readArray(at: JsonPosition): JsonNode {
    const items: JsonNode[] = [];
    this.advance();
    this.skipWhitespace();
    if (this.text[this.offset] === ']') {
      this.advance();
      return { kind: 'array', at, items };
    }
    for (;;) {
      this.skipWhitespace();
      items.push(this.readValue());
      this.skipWhitespace();
      if (this.text[this.offset] === ',') {
        this.advance();
        continue;
      }
      if (this.text[this.offset] === ']') {
        this.advance();
        return { kind: 'array', at, items };
      }
      this.fail('expected "," or "]" after an array item', 'add the missing comma or closing bracket');
    }
  }

  private readString(): string {
    const start = this.offset;
    const startPosition = this.position();
    this.advance();
    for (;;) {
      if (this.atEnd() || this.text[this.offset] === '\n') this.fail('unterminated string', 'add the closing double quote');
      const character = this.text[this.offset]!;
      if (character === '"') {
        this.advance();
        break;
      }
      if (character === '\\') this.advance();
      this.advance();
    }
    try {
      return JSON.parse(this.text.slice(start, this.offset)) as string;
    } catch {
      this.offset = start;
      this.line = startPosition.line;
      this.column = startPosition.column;
      return this.fail('invalid escape or control character in a string', 'escape quotes and backslashes as \\" and \\\\');
    }
  }

  private readNumber(): number {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.offset));
    if (!match) this.fail('invalid number', 'write numbers as 12, 0.5 or 1e-3, without a leading + or zero');
    for (let index = 0; index < match[0].length; index += 1) this.advance();
    return Number(match[0]);
  }

  private advance(): void {
    if (this.text[this.offset] === '\n') {
      this.line += 1;
      this.column = 1;
    } else {
      this.column += 1;
    }
    this.offset += 1;
  }
}
