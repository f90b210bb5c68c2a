import type { SyntaxNode } from '@lezer/common';
import type { SourceLocation } from './errors.ts';

/** Maps offsets in the source to 1-based lines and columns. A UTF-8 byte order mark takes no column. */
export class SourceReader {
  private readonly lineStarts: number[];

  constructor(
    readonly source: string,
    readonly file: string,
  ) {
    this.lineStarts = [source.startsWith('\uFEFF') ? 1 : 0];
    for (let index = 0; index < source.length; index++) {
      if (source[index] === '\n') this.lineStarts.push(index + 1);
    }
  }

  location(offset: number): SourceLocation {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.lineStarts[middle]! <= offset) low = middle;
      else high = middle - 1;
    }
    return { file: this.file, line: low + 1, column: offset - this.lineStarts[low]! + 1 };
  }

  text(node: SyntaxNode): string {
    return this.source.slice(node.from, node.to);
  }
}

/** Shortens text for a message: whitespace runs become one space, and text over 60 characters is cut. */
export function abbreviate(text: string): string {
  const single = text.replace(/\s+/g, ' ');
  return single.length > 60 ? `${single.slice(0, 57)}...` : single;
}
