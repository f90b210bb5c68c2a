import type { Problem } from '../core/errors.ts';

/** One field of a CSV record: its text without the quotes and where it starts. */
export interface CsvField {
  text: string;
  line: number;
  column: number;
}

/** One CSV record, which can span several lines when a quoted field contains a line break. */
export interface CsvRecord {
  line: number;
  fields: CsvField[];
}

/** A `# key: value` line before the header. */
export interface CsvMetadataLine {
  key: string;
  value: string;
  line: number;
  /** Column of the value, for messages about it. */
  valueColumn: number;
}

/** The parts of a price CSV: its leading metadata lines and its records, the header first. */
export interface CsvDocument {
  metadata: CsvMetadataLine[];
  records: CsvRecord[];
  problems: Problem[];
}

const metadataPattern = /^#\s*([A-Za-z_][A-Za-z0-9_]*)\s*:(\s*)(.*?)\s*$/;

/**
 * Splits CSV text (RFC 4180: comma separator, double quotes, `""` for a quote inside quotes, LF or CRLF line
 * ends) into records. Lines that start with `#` before the first record are metadata when they read
 * `# key: value` and free comments otherwise. Blank lines are skipped. Unquoted fields are trimmed.
 */
export function readCsv(text: string, file: string): CsvDocument {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const metadata: CsvMetadataLine[] = [];
  const records: CsvRecord[] = [];
  const problems: Problem[] = [];
  const lines = source.split(/\r?\n/);

  let index = 0;
  while (index < lines.length) {
    const lineText = lines[index]!;
    const lineNumber = index + 1;

    if (records.length === 0 && lineText.trimStart().startsWith('#')) {
      const match = metadataPattern.exec(lineText.trim());
      if (match) {
        const valueColumn = lineText.indexOf(':') + 1 + match[2]!.length + 1;
        metadata.push({ key: match[1]!, value: match[3]!, line: lineNumber, valueColumn });
      }
      index += 1;
      continue;
    }
    if (lineText.trim() === '') {
      index += 1;
      continue;
    }

    const parsed = parseRecord(lines, index, file, problems);
    // A record whose quote never closes has swallowed the rest of the file, so only its quote is reported.
    if (!parsed.unterminated) records.push({ line: lineNumber, fields: parsed.fields });
    index = parsed.nextIndex;
  }

  return { metadata, records, problems };
}

/** Reads one record that starts at `lines[start]`, following quoted fields across line breaks. */
function parseRecord(lines: string[], start: number, file: string, problems: Problem[]): { fields: CsvField[]; nextIndex: number; unterminated: boolean } {
  const fields: CsvField[] = [];
  let lineIndex = start;
  let text = lines[lineIndex]!;
  let position = 0;

  for (;;) {
    while (position < text.length && text[position] === ' ') position += 1;
    const fieldLine = lineIndex + 1;
    const fieldColumn = position + 1;
    let value = '';

    if (text[position] === '"') {
      const quoteColumn = fieldColumn;
      position += 1;
      let closed = false;
      while (!closed) {
        if (position >= text.length) {
          if (lineIndex + 1 >= lines.length) {
            problems.push({
              location: { file, line: fieldLine, column: quoteColumn },
              message: 'unterminated quoted field — a field that starts with " ends with another "; add the closing quote',
            });
            return { fields: [...fields, { text: value, line: fieldLine, column: quoteColumn }], nextIndex: lines.length, unterminated: true };
          }
          lineIndex += 1;
          text = lines[lineIndex]!;
          position = 0;
          value += '\n';
          continue;
        }
        const character = text[position]!;
        if (character === '"' && text[position + 1] === '"') {
          value += '"';
          position += 2;
        } else if (character === '"') {
          closed = true;
          position += 1;
        } else {
          value += character;
          position += 1;
        }
      }
      while (position < text.length && text[position] === ' ') position += 1;
      if (position < text.length && text[position] !== ',') {
        const comma = text.indexOf(',', position);
        const end = comma === -1 ? text.length : comma;
        problems.push({
          location: { file, line: lineIndex + 1, column: position + 1 },
          message: `text after a closing quote (${JSON.stringify(text.slice(position, end))}) — a quoted field ends at its closing quote; put the whole field inside the quotes`,
        });
        position = end;
      }
      fields.push({ text: value, line: fieldLine, column: quoteColumn });
    } else {
      const comma = text.indexOf(',', position);
      const end = comma === -1 ? text.length : comma;
      value = text.slice(position, end).trim();
      if (value.includes('"')) {
        problems.push({
          location: { file, line: fieldLine, column: fieldColumn },
          message: `quote inside an unquoted field (${value}) — a field that contains " must be quoted, with each " doubled; write "${value.replaceAll('"', '""')}"`,
        });
      }
      position = end;
      fields.push({ text: value, line: fieldLine, column: fieldColumn });
    }

    if (position < text.length && text[position] === ',') {
      position += 1;
      continue;
    }
    return { fields, nextIndex: lineIndex + 1, unterminated: false };
  }
}
