import type { SyntaxNode } from '@lezer/common';
import type { Problem } from './errors.ts';
import { abbreviate, type SourceReader } from './source-reader.ts';
import { parseQuantity, suggestQuantity } from './quantity.ts';

/**
 * Describes lezer's error nodes and Python 2 print statements, with the fix for each. Only the first
 * error of each top-level statement is described, because lezer's recovery makes the later ones follow
 * from it, and at most five in all.
 */
export function findSyntaxErrors(top: SyntaxNode, reader: SourceReader): Problem[] {
  const problems: Problem[] = [];
  const seenStatements = new Set<number>();
  const cursor = top.cursor();
  do {
    const isPrint = cursor.name === 'PrintStatement';
    if (!cursor.type.isError && !isPrint) continue;
    const node = cursor.node;
    let statement = node;
    while (statement.parent && statement.parent.parent) statement = statement.parent;
    if (seenStatements.has(statement.from)) continue;
    seenStatements.add(statement.from);
    problems.push(isPrint ? describePrintStatement(node, reader) : describeSyntaxError(node, reader));
  } while (cursor.next() && problems.length < 5);
  return problems;
}

const bracketedNodes = new Set(['ArgList', 'ParamList', 'DictionaryExpression', 'ArrayExpression', 'SetExpression', 'TupleExpression', 'ParenthesizedExpression']);

function isInsideBrackets(node: SyntaxNode): boolean {
  for (let parent = node.parent; parent; parent = parent.parent) if (bracketedNodes.has(parent.name)) return true;
  return false;
}

const bracketPairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const closingBrackets: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
const compoundKeywords = new Set(['def', 'async', 'class', 'if', 'elif', 'else', 'for', 'while', 'with', 'try', 'except', 'finally', 'match', 'case']);

interface SourceScan {
  /** The first string that is never closed, bracket that does not match, or line indented wrongly. */
  problem?: Problem;
  /**
   * The source with the same length and offsets, rewritten where @lezer/python 1.1 rejects valid Python.
   * The rewrites are form feeds, floats with a trailing dot (`24.`), a bare `yield`, `print` used as a
   * name, and the brackets of `with (open(a) as b, open(c) as d):` and `with f() as (b, c):`.
   * NOTE: lezer still rejects a few rare forms, such as `case Point():` and `with a as self.b:`.
   */
  lezerSource: string;
}

/**
 * Scans the source the way Python's tokenizer does. It runs before lezer because lezer recovers from
 * unclosed strings and brackets quietly or blames a later line. The scan stops at the first problem, as
 * Python does, because everything after an unclosed bracket or string reads differently.
 */
export function scanSource(reader: SourceReader): SourceScan {
  const scanner = new SourceScanner(reader);
  const problem = scanner.scan();
  return problem ? { problem, lezerSource: reader.source } : { lezerSource: scanner.lezerSource.join('') };
}

interface OpenBracket {
  char: string;
  offset: number;
  /** The bracket follows `with` or `as`, as in `with (open(a) as b):`, which lezer does not accept. */
  afterWith: boolean;
}

class SourceScanner {
  readonly lezerSource: string[];
  private readonly source: string;
  private readonly openers: OpenBracket[] = [];
  /** Indentation widths of the enclosing blocks, innermost last. Tabs advance to the next multiple of 8, as in Python. */
  private readonly indents = [0];
  /** The line and first word of the last logical line, when that line ends with ":" and so opens a block. */
  private header: { line: number; keyword: string } | undefined;
  /** The first word, text and end of the last logical line, to report a compound statement's missing ":". */
  private previousLine: { keyword: string; text: string; end: number } | undefined;
  private logicalStart = -1;
  private lastSignificant = -1;
  /** The characters used to indent logical lines so far: space, tab or both. */
  private readonly indentationChars = new Set<string>();
  /** Start and end offsets of the comments seen so far. */
  private readonly comments: [number, number][] = [];

  constructor(private readonly reader: SourceReader) {
    this.source = reader.source;
    this.lezerSource = reader.source.split('');
    if (this.source.startsWith('\uFEFF')) this.lezerSource[0] = ' ';
  }

  scan(): Problem | undefined {
    const source = this.source;
    let index = source.startsWith('\uFEFF') ? 1 : 0;
    let atLineStart = true;
    let continued = false;

    while (index < source.length) {
      if (atLineStart) {
        const startsLogicalLine = this.openers.length === 0 && !continued;
        atLineStart = false;
        continued = false;
        const { width, end } = this.measureIndentation(index);
        const next = source[end];
        const isBlankLine = next === undefined || next === '\n' || next === '\r' || next === '#';
        if (startsLogicalLine && !isBlankLine) {
          for (const char of source.slice(index, end)) this.indentationChars.add(char);
          const problem = this.checkIndentation(width, end);
          if (problem) return this.describeMixedIndentation(index, end) ?? problem;
          this.logicalStart = end;
        }
        index = end;
        continue;
      }

      const char = source[index]!;
      if (char === '#') {
        this.comments.push([index, this.lineEnd(index)]);
        index = this.lineEnd(index);
      } else if (char === '\n') {
        if (this.openers.length === 0) this.endLogicalLine();
        atLineStart = true;
        index++;
      } else if (char === '\\' && /^\\\r?\n/.test(source.slice(index, index + 3))) {
        continued = true;
        atLineStart = true;
        index = this.lineEnd(index) + 1;
      } else if (char === '"' || char === "'") {
        const end = this.findStringEnd(index);
        if (end === undefined) return this.describeUnclosedString(index);
        this.lastSignificant = end - 1;
        index = end;
      } else if (/[\p{L}_]/u.test(char)) {
        index = this.readWord(index);
      } else if (/\d/.test(char)) {
        index = this.readNumber(index);
      } else {
        const problem = this.readPunctuation(index);
        if (problem) return problem;
        index++;
      }
    }

    if (this.openers.length > 0) return this.describeUnclosedBrackets();
    this.endLogicalLine();
    if (this.header) return this.describeMissingBody(source.length, this.header);
    return undefined;
  }

  private fail(offset: number, message: string): Problem {
    return { location: this.reader.location(offset), message: `invalid syntax: ${message}` };
  }

  private lineEnd(offset: number): number {
    const end = this.source.indexOf('\n', offset);
    return end === -1 ? this.source.length : end;
  }

  private measureIndentation(start: number): { width: number; end: number } {
    let width = 0;
    let end = start;
    for (; end < this.source.length; end++) {
      const char = this.source[end]!;
      if (char === ' ') width++;
      else if (char === '\t') width = (Math.floor(width / 8) + 1) * 8;
      else if (char === '\f') {
        width = 0;
        this.lezerSource[end] = ' ';
      } else break;
    }
    return { width, end };
  }

  private endLogicalLine(): void {
    if (this.logicalStart < 0 || this.lastSignificant < this.logicalStart) return;
    const keyword = /^\w+/.exec(this.source.slice(this.logicalStart, this.logicalStart + 20))?.[0] ?? '';
    const opensBlock = this.source[this.lastSignificant] === ':';
    this.header = opensBlock ? { line: this.reader.location(this.logicalStart).line, keyword: keyword || ':' } : undefined;
    this.previousLine = { keyword, text: this.source.slice(this.logicalStart, this.lastSignificant + 1), end: this.lastSignificant + 1 };
    this.logicalStart = -1;
  }

  private checkIndentation(width: number, offset: number): Problem | undefined {
    const current = this.indents[this.indents.length - 1]!;
    if (this.header) {
      const opened = this.header;
      this.header = undefined;
      if (width <= current) return this.describeMissingBody(offset, opened);
      this.indents.push(width);
      return undefined;
    }

    const previous = this.previousLine;
    if (width > current && previous && compoundKeywords.has(previous.keyword)) {
      return this.fail(previous.end, `expected ":" at the end of the "${previous.keyword}" line; write ${abbreviate(previous.text)}:`);
    }
    if (width > current) return this.fail(offset, 'unexpected indent: the line above does not end with ":", so this line must start in the same column as it');
    while (this.indents.length > 1 && this.indents[this.indents.length - 1]! > width) this.indents.pop();
    if (this.indents[this.indents.length - 1] !== width) {
      return this.fail(offset, 'this line is indented to a column that no enclosing block uses; indent it like the block it belongs to');
    }
    return undefined;
  }

  /** Returns a problem when a line that is indented wrongly mixes tabs and spaces with the lines above, as Python's TabError does. */
  private describeMixedIndentation(start: number, end: number): Problem | undefined {
    const indentation = this.source.slice(start, end);
    const usesTab = indentation.includes('\t');
    const usesSpace = indentation.includes(' ');
    const mixes = (usesTab && this.indentationChars.has(' ')) || (usesSpace && this.indentationChars.has('\t')) || (usesTab && usesSpace);
    if (!mixes) return undefined;
    return this.fail(end, 'this line mixes tabs and spaces in its indentation with the lines above, and Python rejects that; indent with spaces only');
  }

  private describeMissingBody(offset: number, header: { line: number; keyword: string }): Problem {
    return this.fail(offset, `the block opened by "${header.keyword}" on line ${header.line} has no body; indent its lines under it, or write pass`);
  }

  private findStringEnd(start: number): number | undefined {
    const source = this.source;
    const quote = source[start]!;
    const triple = source.startsWith(quote.repeat(3), start);
    let cursor = start + (triple ? 3 : 1);
    while (cursor < source.length) {
      const char = source[cursor]!;
      if (char === '\\') cursor += 2;
      else if (triple && source.startsWith(quote.repeat(3), cursor)) return cursor + 3;
      else if (!triple && char === quote) return cursor + 1;
      else if (!triple && char === '\n') return undefined;
      else cursor++;
    }
    return undefined;
  }

  private describeUnclosedString(start: number): Problem {
    const quote = this.source[start]!;
    if (this.source.startsWith(quote.repeat(3), start)) {
      return this.fail(start, `this triple-quoted string is never closed; end it with ${quote.repeat(3)}`);
    }
    const rest = this.source.slice(start, this.lineEnd(start)).trimEnd();
    return this.fail(start, `the string ${abbreviate(rest)} is not closed on its line; add the closing ${quote}, or use ${quote.repeat(3)} for a string of several lines`);
  }

  /**
   * Skips a name. In the copy for lezer, a bare `yield` becomes the name `Yield`, because lezer rejects
   * it, and `print` before an operator (`print = log`) becomes `Print`, because lezer reads it as a
   * Python 2 print statement. `print` before a name, number or string stays a print statement.
   */
  private readWord(start: number): number {
    const word = /^[\p{L}\p{N}_]+/u.exec(this.source.slice(start, start + 200))![0];
    const after = this.source.slice(start + word.length, start + word.length + 100);
    if (word === 'yield' && /^[ \t]*(?:[\r\n)\]};#,]|$)/.test(after)) this.lezerSource[start] = 'Y';
    if (word === 'print' && /^[ \t]*[^\s(.#\p{L}\p{N}_'"]/u.test(after)) this.lezerSource[start] = 'P';
    this.lastSignificant = start + word.length - 1;
    return start + word.length;
  }

  /** Skips the digits of a number. A float with a trailing dot (`24.`), which lezer rejects, ends in `0` in the copy for lezer. */
  private readNumber(start: number): number {
    const number = /^\d[\d_]*(\.)?(?![\d\p{L}_.])/u.exec(this.source.slice(start, start + 200));
    if (!number) {
      this.lastSignificant = start;
      return start + 1;
    }
    if (number[1]) this.lezerSource[start + number[0].length - 1] = '0';
    this.lastSignificant = start + number[0].length - 1;
    return start + number[0].length;
  }

  private readPunctuation(index: number): Problem | undefined {
    const char = this.source[index]!;
    if (char === '\f') this.lezerSource[index] = ' ';
    if (!' \t\f\r'.includes(char)) this.lastSignificant = index;

    if (char in bracketPairs) {
      const afterWith = char === '(' && /\b(?:with|as)\s*$/.test(this.source.slice(Math.max(0, index - 20), index));
      this.openers.push({ char, offset: index, afterWith });
      return undefined;
    }
    if (!(char in closingBrackets)) return undefined;

    const opener = this.openers.pop();
    if (!opener) return this.fail(index, `unmatched "${char}"; remove it, or add the "${closingBrackets[char]}" it should close`);
    if (bracketPairs[opener.char] !== char) {
      const where = this.reader.location(opener.offset);
      return this.fail(index, `this "${char}" does not close the "${opener.char}" at line ${where.line} column ${where.column}; add "${bracketPairs[opener.char]}" before it`);
    }
    if (opener.afterWith && /^\s*:/.test(this.source.slice(index + 1, index + 100))) this.unwrapBrackets(opener.offset, index);
    return undefined;
  }

  /** Turns a bracket pair into spaces in the copy for lezer, with the line breaks and comments between them. */
  private unwrapBrackets(open: number, close: number): void {
    for (let offset = open; offset <= close; offset++) {
      const char = this.source[offset]!;
      if (offset === open || offset === close || char === '\n' || char === '\r') this.lezerSource[offset] = ' ';
    }
    for (const [start, end] of this.comments) {
      if (start > open && end < close) for (let offset = start; offset < end; offset++) this.lezerSource[offset] = ' ';
    }
  }

  private describeUnclosedBrackets(): Problem {
    const innermost = this.openers[this.openers.length - 1]!;
    const closer = bracketPairs[innermost.char]!;
    const before = this.source.slice(0, innermost.offset).trimEnd();
    const isCall = innermost.char === '(' && /[\w)\]]$/.test(before);
    const places: Record<string, string> = { '[': 'at the end of the list', '{': 'at the end of the dict', '(': 'where the expression ends' };
    const place = isCall ? 'at the end of the argument list' : places[innermost.char]!;
    const outer = this.openers
      .slice(0, -1)
      .reverse()
      .map((opener) => {
        const where = this.reader.location(opener.offset);
        return `"${bracketPairs[opener.char]}" for the "${opener.char}" at line ${where.line} column ${where.column}`;
      });
    const more = outer.length > 0 ? `, then ${outer.join(', then ')}` : '';
    return this.fail(innermost.offset, `this "${innermost.char}" is never closed; add "${closer}" ${place}${more}`);
  }
}

function describePrintStatement(node: SyntaxNode, reader: SourceReader): Problem {
  const lineEnd = reader.source.indexOf('\n', node.from);
  const statement = reader.source.slice(node.from, lineEnd === -1 ? reader.source.length : lineEnd);
  const argument = statement.replace(/^print\s*/, '').replace(/\s+#.*$/, '').trim();
  return {
    location: reader.location(node.from),
    message: `invalid syntax: print is a function in Python 3; write print(${abbreviate(argument)})`,
  };
}

function describeSyntaxError(node: SyntaxNode, reader: SourceReader): Problem {
  const source = reader.source;
  const location = reader.location(node.from);
  const previous = node.prevSibling;

  const afterError = source.slice(node.from).trimStart();
  const beforeKey = previous ? source.slice(0, previous.from).trimEnd() : '';
  if (previous?.name === 'String' && /^=(?!=)/.test(afterError) && /[{,]$/.test(beforeKey)) {
    const equals = source.indexOf('=', node.from);
    const entryEnd = findEntryEnd(source, equals + 1);
    const key = reader.text(previous);
    const entry = source.slice(previous.from, entryEnd).trim();
    const rawValue = source.slice(equals + 1, entryEnd).trim();
    const suggestion = suggestDictValue(rawValue);
    const unit = suggestion !== rawValue && /^\d/.test(rawValue) ? ', and a size is a quoted Kubernetes quantity' : '';
    return {
      location: reader.location(previous.from),
      message: `invalid syntax in the dict entry ${entry}: a dict entry is written key: value, with a colon${unit}; write ${key}: ${suggestion}`,
    };
  }

  if (previous?.name === 'ContinuedString' && afterError.startsWith(':')) {
    const parts = previous.getChildren('String').map((part) => reader.text(part));
    return {
      location: reader.location(previous.from),
      message: `invalid syntax: the strings ${parts.join(' ')} are joined into one, because no "," separates them; write ${parts.join(', ')}`,
    };
  }

  const before = source.slice(0, node.from).trimEnd();
  const lineStart = source.lastIndexOf('\n', node.from - 1) + 1;
  const lineEnd = source.indexOf('\n', node.from) === -1 ? source.length : source.indexOf('\n', node.from);
  const nextItem = /^[^\s,)\]}]+/.exec(afterError)?.[0];
  if (nextItem && /[\w'")\]}]$/.test(before) && /^[\w'"([{]/.test(afterError) && isInsideBrackets(node) && node.from < lineEnd) {
    const previousItem = /[^\s,([{]+$/.exec(before)?.[0] ?? '';
    return {
      location,
      message: `invalid syntax: a "," is missing between ${abbreviate(previousItem)} and ${abbreviate(nextItem)}; separate the items with commas`,
    };
  }

  const header = source.slice(lineStart, node.from).trim();
  const keyword = /^\w+/.exec(header)?.[0];
  if (keyword && compoundKeywords.has(keyword) && !header.includes(':') && bracketsBalance(header)) {
    const atLineEnd = source.slice(node.from, lineEnd).trim() === '';
    return {
      location,
      message: `invalid syntax: expected ":" at the end of the "${keyword}" line; write ${abbreviate(header)}:${atLineEnd ? '' : ' and start the body on the next line'}`,
    };
  }

  const text = reader.text(node).trim();
  const rest = source.slice(node.from, lineEnd).trim();
  const near = text || rest;
  const check = `python3 -m py_compile ${reader.file} prints Python's own message`;
  if (near === '') return { location, message: `invalid syntax: the statement ends before it is complete; finish it (${check})` };
  return { location, message: `invalid syntax at ${JSON.stringify(abbreviate(near))}; correct this statement (${check})` };
}

function bracketsBalance(text: string): boolean {
  let depth = 0;
  for (const char of text) {
    if (char in bracketPairs) depth++;
    else if (char in closingBrackets) depth--;
  }
  return depth === 0;
}

/** Returns the offset where a dict entry's value ends: at the next "," or closing bracket outside nested brackets, or at the line end. */
function findEntryEnd(source: string, start: number): number {
  let depth = 0;
  for (let index = start; index < source.length; index++) {
    const char = source[index]!;
    if (char === '\n') return index;
    if (char in bracketPairs) depth++;
    else if (char in closingBrackets) {
      if (depth === 0) return index;
      depth--;
    } else if (char === ',' && depth === 0) return index;
  }
  return source.length;
}

/** Suggests the value of a dict entry written with "=": a size such as 20Gb becomes the quantity '20Gi'. */
function suggestDictValue(rawValue: string): string {
  if (/^\d+(?:\.\d+)?[a-zA-Z]+$/.test(rawValue)) {
    const quantity = parseQuantity(rawValue) !== undefined ? rawValue : suggestQuantity(rawValue);
    return `'${quantity ?? rawValue}'`;
  }
  return rawValue;
}
