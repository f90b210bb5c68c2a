import { parser } from '@lezer/python';
import type { SyntaxNode } from '@lezer/common';
import type { Problem, SourceLocation } from './errors.ts';

/**
 * Reads a Python module without running it and returns what ptk needs from it: the functions that
 * carry `@task`, `@container` or `@pod` with their evaluated arguments, the calls of the driver code
 * (`main()` or the `if __name__ == "__main__":` block), and the calls that would run at import time.
 * Decorator arguments must be literals or names of module-level constants bound to literals.
 */

export type DecoratorKind = 'task' | 'container' | 'pod';

interface ValueBase {
  location: SourceLocation;
  /** The source text of the value, as the user wrote it. */
  text: string;
}

/** A Python literal evaluated from the source. */
export type PyValue =
  | (ValueBase & { kind: 'str'; value: string })
  | (ValueBase & { kind: 'int' | 'float'; value: number })
  | (ValueBase & { kind: 'bool'; value: boolean })
  | (ValueBase & { kind: 'none' })
  | (ValueBase & { kind: 'list' | 'set' | 'tuple'; items: PyValue[] })
  | (ValueBase & { kind: 'dict'; entries: { key: PyValue; value: PyValue }[] });

/** A keyword argument of a decorator. `location` is where the keyword is written. */
export interface DecoratorArgument {
  name: string;
  value: PyValue;
  location: SourceLocation;
}

export interface Decorator {
  kind: DecoratorKind;
  /** How the decorator was written, such as `@task` or `@ptk.pod`. */
  spelling: string;
  location: SourceLocation;
  arguments: DecoratorArgument[];
}

export interface Parameter {
  name: string;
  location: SourceLocation;
  kind: 'positional' | 'varargs' | 'keyword-only' | 'varkw';
  hasDefault: boolean;
}

/** A module-level function that carries at least one ptk decorator. */
export interface DecoratedFunction {
  name: string;
  location: SourceLocation;
  parameters: Parameter[];
  decorators: Decorator[];
  /** Names returned by `return NAME` statements, which consumers' parameters are matched against. */
  returnNames: string[];
}

/** An argument of a call in the driver code: a variable, a nested call, or something else. */
export interface CallArgument {
  keyword?: string;
  variable?: string;
  call?: CallSite;
  location: SourceLocation;
}

/** A call of a plain name, such as `prepare_r = prepare_data(download_r)`. */
export interface CallSite {
  callee: string;
  location: SourceLocation;
  arguments: CallArgument[];
  /** Variables that the call's result is assigned to. */
  assignedTo: string[];
}

export interface ParsedModule {
  file: string;
  source: string;
  functions: DecoratedFunction[];
  /** Calls in the driver code, in source order, nested calls before the calls that use them. */
  driverCalls: CallSite[];
  /** Calls made by module-level statements, which run when the module is imported. */
  importTimeCalls: CallSite[];
  problems: Problem[];
}

const decoratorKinds = new Set<string>(['task', 'container', 'pod']);

/** Parses Python source. Problems (syntax errors, non-literal arguments, missing imports) are returned, not thrown. */
export function parseModule(source: string, file: string): ParsedModule {
  const reader = new SourceReader(source, file);
  const tree = parser.parse(source);
  const result: ParsedModule = { file, source, functions: [], driverCalls: [], importTimeCalls: [], problems: [] };

  const syntaxProblems = findSyntaxErrors(tree.topNode, reader);
  if (syntaxProblems.length > 0) {
    result.problems = syntaxProblems;
    return result;
  }

  const scope = new ModuleScope();
  let mainFunction: SyntaxNode | undefined;
  for (const statement of children(tree.topNode)) {
    switch (statement.name) {
      case 'ImportStatement':
        scope.readImport(statement, reader);
        break;
      case 'AssignStatement':
        scope.readAssignment(statement, reader);
        result.importTimeCalls.push(...collectCalls(statement, reader));
        break;
      case 'DecoratedStatement': {
        const definition = readDecorated(statement, scope, reader, result.problems);
        if (definition?.function) result.functions.push(definition.function);
        if (definition?.plainName === 'main') mainFunction = definition.body;
        break;
      }
      case 'FunctionDefinition':
        reportNestedDecorators(statement, scope, reader, result.problems);
        if (functionName(statement, reader) === 'main') mainFunction = statement;
        break;
      case 'ClassDefinition':
        reportNestedDecorators(statement, scope, reader, result.problems);
        break;
      case 'IfStatement':
        if (isMainGuard(statement, reader)) {
          result.driverCalls.push(...collectCalls(bodyOf(statement), reader));
        } else {
          result.importTimeCalls.push(...collectCalls(statement, reader));
        }
        break;
      default:
        result.importTimeCalls.push(...collectCalls(statement, reader));
    }
  }

  if (mainFunction) {
    const body = mainFunction.name === 'FunctionDefinition' ? mainFunction.getChild('Body') : mainFunction;
    if (body) result.driverCalls.unshift(...collectCalls(body, reader));
  }
  return result;
}

/** Maps offsets in the source to 1-based lines and columns. */
class SourceReader {
  private readonly lineStarts: number[] = [0];

  constructor(
    readonly source: string,
    readonly file: string,
  ) {
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

/** What module-level names mean at a point of the module: ptk imports and literal constants. */
class ModuleScope {
  /** Local names bound to a ptk decorator: `task`, or `t` after `from ptk import task as t`. */
  readonly decoratorAliases = new Map<string, DecoratorKind>();
  /** Local names bound to the ptk module itself: `ptk`, or `p` after `import ptk as p`. */
  readonly moduleAliases = new Set<string>();
  /** Names imported from other modules, so `@task` from another library is not mistaken for ptk's. */
  readonly foreignNames = new Set<string>();
  /** Module-level names and the literal they are bound to, or null when bound to something else. */
  readonly constants = new Map<string, PyValue | null>();

  readImport(statement: SyntaxNode, reader: SourceReader): void {
    const parts = children(statement);
    const isFrom = parts[0]?.name === 'from';
    if (isFrom) {
      const importIndex = parts.findIndex((part) => part.name === 'import');
      const moduleName = parts
        .slice(1, importIndex)
        .map((part) => reader.text(part))
        .join('');
      for (const [name, alias] of importedNames(parts.slice(importIndex + 1), reader)) {
        if (moduleName === 'ptk' && decoratorKinds.has(name)) this.decoratorAliases.set(alias, name as DecoratorKind);
        else if (moduleName === 'ptk' && name === '*') for (const kind of decoratorKinds) this.decoratorAliases.set(kind, kind as DecoratorKind);
        else {
          this.foreignNames.add(alias);
          this.decoratorAliases.delete(alias);
        }
      }
      return;
    }

    for (const [name, alias] of importedNames(parts.slice(1), reader)) {
      if (name === 'ptk') this.moduleAliases.add(alias);
      else this.foreignNames.add(alias.split('.')[0]!);
    }
  }

  readAssignment(statement: SyntaxNode, reader: SourceReader): void {
    const parts = children(statement);
    const operator = parts.findIndex((part) => part.name === 'AssignOp');
    if (operator < 0) return;

    const targets = parts.slice(0, operator).filter((part) => part.name === 'VariableName');
    const valueNode = parts[parts.length - 1];
    const isSingleTarget = operator === 1 && targets.length === 1 && parts.length === 3;
    for (const target of targets) {
      const name = reader.text(target);
      if (!isSingleTarget || !valueNode) {
        this.constants.set(name, null);
        continue;
      }
      const evaluated = evaluate(valueNode, this, reader, []);
      this.constants.set(name, evaluated ?? null);
    }
  }

  resolveDecorator(node: SyntaxNode, reader: SourceReader): { kind?: DecoratorKind; spelling: string; unimported?: string } {
    const parts = children(node).filter((part) => part.name !== 'At' && part.name !== 'ArgList');
    const spelling = `@${parts.map((part) => reader.text(part)).join('')}`;
    const names = parts.filter((part) => part.name === 'VariableName').map((part) => reader.text(part));

    if (names.length === 1) {
      const name = names[0]!;
      const kind = this.decoratorAliases.get(name);
      if (kind) return { kind, spelling };
      if (decoratorKinds.has(name) && !this.foreignNames.has(name) && !this.constants.has(name)) {
        return { spelling, unimported: name };
      }
      return { spelling };
    }
    if (names.length === 2 && this.moduleAliases.has(names[0]!) && decoratorKinds.has(names[1]!)) {
      return { kind: names[1] as DecoratorKind, spelling };
    }
    return { spelling };
  }
}

function importedNames(parts: SyntaxNode[], reader: SourceReader): [string, string][] {
  const pairs: [string, string][] = [];
  let current: string[] = [];
  let alias: string | undefined;
  let afterAs = false;
  const flush = () => {
    if (current.length > 0) {
      const name = current.join('');
      pairs.push([name, alias ?? name]);
    }
    current = [];
    alias = undefined;
    afterAs = false;
  };

  for (const part of parts) {
    if (part.name === ',') flush();
    else if (part.name === 'as') afterAs = true;
    else if (part.name === '(' || part.name === ')') continue;
    else if (afterAs) alias = reader.text(part);
    else current.push(reader.text(part));
  }
  flush();
  return pairs;
}

interface ReadDefinition {
  function?: DecoratedFunction;
  plainName?: string;
  body?: SyntaxNode;
}

/** Reads a decorated function or class. Returns the function when it carries a ptk decorator. */
function readDecorated(statement: SyntaxNode, scope: ModuleScope, reader: SourceReader, problems: Problem[]): ReadDefinition | undefined {
  const decoratorNodes = statement.getChildren('Decorator');
  const definition = statement.getChild('FunctionDefinition') ?? statement.getChild('ClassDefinition');
  if (!definition) return undefined;

  const decorators: Decorator[] = [];
  for (const node of decoratorNodes) {
    const resolved = scope.resolveDecorator(node, reader);
    if (resolved.unimported) {
      problems.push({
        location: reader.location(node.from),
        message: `${resolved.spelling} is not imported from ptk: Python will raise NameError when the module loads; add "from ptk import ${resolved.unimported}" at the top of the file`,
      });
      continue;
    }
    if (!resolved.kind) continue;
    decorators.push(readDecoratorArguments(node, resolved.kind, resolved.spelling, scope, reader, problems));
  }

  const name = functionName(definition, reader);
  if (definition.name === 'ClassDefinition') {
    for (const decorator of decorators) {
      problems.push({
        location: decorator.location,
        message: `${decorator.spelling} decorates class ${name}; ptk tasks are functions: move the work into a module-level function and decorate that`,
      });
    }
    reportNestedDecorators(definition, scope, reader, problems);
    return undefined;
  }

  reportNestedDecorators(definition, scope, reader, problems);
  if (decorators.length === 0) return { plainName: name, body: definition };

  const isAsync = children(definition)[0]?.name === 'async';
  if (isAsync) {
    problems.push({
      location: reader.location(definition.from),
      message: `task function ${name} is async; ptk runs tasks as plain calls: make it a regular "def" and run any event loop inside it with asyncio.run()`,
    });
  }

  return {
    plainName: name,
    body: definition,
    function: {
      name,
      location: reader.location(definition.getChild('VariableName')?.from ?? definition.from),
      parameters: readParameters(definition, reader),
      decorators,
      returnNames: readReturnNames(definition, reader),
    },
  };
}

function readDecoratorArguments(
  node: SyntaxNode,
  kind: DecoratorKind,
  spelling: string,
  scope: ModuleScope,
  reader: SourceReader,
  problems: Problem[],
): Decorator {
  const decorator: Decorator = { kind, spelling, location: reader.location(node.from), arguments: [] };
  const argumentList = node.getChild('ArgList');
  if (!argumentList) return decorator;

  for (const argument of splitArguments(argumentList)) {
    const [first, second, third] = argument;
    if (first && second?.name === 'AssignOp' && third && first.name === 'VariableName') {
      const name = reader.text(first);
      const value = evaluate(third, scope, reader, problems);
      if (value) decorator.arguments.push({ name, value, location: reader.location(first.from) });
      continue;
    }
    const start = argument[0];
    if (!start) continue;
    const text = reader.source.slice(start.from, argument[argument.length - 1]!.to);
    problems.push({
      location: reader.location(start.from),
      message: `${spelling} takes keyword arguments only, but got the positional argument ${text}; write it as a keyword, such as name=${text}`,
    });
  }
  return decorator;
}

/** Splits the children of an argument list into one node list per argument, without the brackets and commas. */
function splitArguments(list: SyntaxNode): SyntaxNode[][] {
  const groups: SyntaxNode[][] = [[]];
  for (const part of children(list)) {
    if (part.name === '(' || part.name === ')') continue;
    if (part.name === ',') groups.push([]);
    else groups[groups.length - 1]!.push(part);
  }
  return groups.filter((group) => group.length > 0);
}

/** Evaluates a literal expression. Reports a problem and returns undefined for anything else. */
function evaluate(node: SyntaxNode, scope: ModuleScope, reader: SourceReader, problems: Problem[]): PyValue | undefined {
  const text = reader.text(node);
  const location = reader.location(node.from);
  const base = { text, location };

  switch (node.name) {
    case 'String':
    case 'ContinuedString': {
      const value = evaluateString(node, reader);
      if (value === undefined) break;
      return { ...base, kind: 'str', value };
    }
    case 'Number': {
      const value = evaluateNumber(text);
      if (value === undefined) break;
      return { ...base, kind: Number.isInteger(value) && !/[.eEjJ]/.test(text) ? 'int' : 'float', value };
    }
    case 'UnaryExpression': {
      const [operator, operand] = children(node);
      if (operator && operand?.name === 'Number' && (reader.text(operator) === '-' || reader.text(operator) === '+')) {
        const value = evaluateNumber(reader.text(operand));
        if (value === undefined) break;
        const signed = reader.text(operator) === '-' ? -value : value;
        return { ...base, kind: /[.eEjJ]/.test(text) ? 'float' : 'int', value: signed };
      }
      break;
    }
    case 'Boolean':
      return { ...base, kind: 'bool', value: text === 'True' };
    case 'None':
      return { ...base, kind: 'none' };
    case 'ArrayExpression':
    case 'SetExpression':
    case 'TupleExpression': {
      const items: PyValue[] = [];
      for (const part of children(node)) {
        if (['[', ']', '{', '}', '(', ')', ','].includes(part.name)) continue;
        const item = evaluate(part, scope, reader, problems);
        if (!item) return undefined;
        items.push(item);
      }
      const kind = node.name === 'ArrayExpression' ? 'list' : node.name === 'SetExpression' ? 'set' : 'tuple';
      return { ...base, kind, items };
    }
    case 'ParenthesizedExpression': {
      const inner = children(node).find((part) => part.name !== '(' && part.name !== ')');
      return inner ? evaluate(inner, scope, reader, problems) : undefined;
    }
    case 'DictionaryExpression': {
      const entries: { key: PyValue; value: PyValue }[] = [];
      const parts = children(node).filter((part) => !['{', '}', ','].includes(part.name));
      for (let index = 0; index + 2 < parts.length + 1; index += 3) {
        const [keyNode, colon, valueNode] = parts.slice(index, index + 3);
        if (!keyNode || colon?.name !== ':' || !valueNode) break;
        const key = evaluate(keyNode, scope, reader, problems);
        const value = evaluate(valueNode, scope, reader, problems);
        if (!key || !value) return undefined;
        entries.push({ key, value });
      }
      return { ...base, kind: 'dict', entries };
    }
    case 'VariableName': {
      const bound = scope.constants.get(text);
      if (bound) return { ...bound, location, text };
      const reason =
        bound === null
          ? `${text} is not bound to a literal at this point of the module`
          : `${text} is not defined at module level before this decorator`;
      problems.push({
        location,
        message: `decorator arguments must be literals or module-level constants bound to literals, but ${reason}; write the value itself, or assign it with ${text} = <literal> above the function`,
      });
      return undefined;
    }
  }

  problems.push({
    location,
    message: `decorator arguments must be literals (strings, numbers, booleans, None, lists, sets, tuples, dicts) or module-level constants, but got the expression ${abbreviate(text)}; ptk reads the file without running it, so compute nothing here: write the value itself`,
  });
  return undefined;
}

function evaluateString(node: SyntaxNode, reader: SourceReader): string | undefined {
  if (node.name === 'ContinuedString') {
    let joined = '';
    for (const part of node.getChildren('String')) {
      const value = evaluateString(part, reader);
      if (value === undefined) return undefined;
      joined += value;
    }
    return joined;
  }

  const raw = reader.text(node);
  const match = /^([rRbBuU]*)('''|"""|'|")([\s\S]*)\2$/.exec(raw);
  if (!match) return undefined;
  const [, prefix = '', , body = ''] = match;
  if (/[bB]/.test(prefix)) return undefined;
  if (/[rR]/.test(prefix)) return body;
  return unescapePython(body);
}

function unescapePython(body: string): string {
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[\s\S])/g, (whole, escape: string) => {
    if (escape.length > 1) return String.fromCodePoint(parseInt(escape.slice(1), 16));
    return simple[escape] ?? whole;
  });
}

function evaluateNumber(text: string): number | undefined {
  const plain = text.replace(/_/g, '');
  if (/[jJ]$/.test(plain)) return undefined;
  if (/^0[xX][0-9a-fA-F]+$/.test(plain)) return parseInt(plain.slice(2), 16);
  if (/^0[oO][0-7]+$/.test(plain)) return parseInt(plain.slice(2), 8);
  if (/^0[bB][01]+$/.test(plain)) return parseInt(plain.slice(2), 2);
  const value = Number(plain);
  return Number.isFinite(value) ? value : undefined;
}

function readParameters(definition: SyntaxNode, reader: SourceReader): Parameter[] {
  const list = definition.getChild('ParamList');
  if (!list) return [];

  const parameters: Parameter[] = [];
  let keywordOnly = false;
  let pendingStar: '*' | '**' | undefined;
  for (const part of children(list)) {
    if (part.name === '*' || part.name === '**') {
      pendingStar = part.name;
      if (part.name === '*') keywordOnly = true;
      continue;
    }
    if (part.name === ',') {
      pendingStar = undefined;
      continue;
    }
    if (part.name === 'AssignOp') {
      const last = parameters[parameters.length - 1];
      if (last) last.hasDefault = true;
      continue;
    }
    if (part.name !== 'VariableName') continue;

    const kind = pendingStar === '*' ? 'varargs' : pendingStar === '**' ? 'varkw' : keywordOnly ? 'keyword-only' : 'positional';
    parameters.push({ name: reader.text(part), location: reader.location(part.from), kind, hasDefault: false });
    pendingStar = undefined;
  }
  return parameters;
}

function readReturnNames(definition: SyntaxNode, reader: SourceReader): string[] {
  const names: string[] = [];
  const visit = (node: SyntaxNode) => {
    for (const child of children(node)) {
      if (child.name === 'FunctionDefinition' || child.name === 'ClassDefinition' || child.name === 'LambdaExpression') continue;
      if (child.name === 'ReturnStatement') {
        const value = children(child).filter((part) => part.name !== 'return');
        if (value.length === 1 && value[0]!.name === 'VariableName') names.push(reader.text(value[0]!));
        continue;
      }
      visit(child);
    }
  };
  const body = definition.getChild('Body');
  if (body) visit(body);
  return [...new Set(names)];
}

/** Reports ptk decorators on functions that are not at module level (methods, nested functions). */
function reportNestedDecorators(node: SyntaxNode, scope: ModuleScope, reader: SourceReader, problems: Problem[]): void {
  const visit = (parent: SyntaxNode) => {
    for (const child of children(parent)) {
      if (child.name === 'DecoratedStatement') {
        for (const decorator of child.getChildren('Decorator')) {
          const resolved = scope.resolveDecorator(decorator, reader);
          if (!resolved.kind) continue;
          const inner = child.getChild('FunctionDefinition') ?? child.getChild('ClassDefinition');
          const name = inner ? functionName(inner, reader) : 'this definition';
          problems.push({
            location: reader.location(decorator.from),
            message: `${resolved.spelling} on ${name}, which is not a module-level function; ptk imports tasks by name from the module: move ${name} to the top level of the file`,
          });
        }
      }
      visit(child);
    }
  };
  const body = node.getChild('Body');
  if (body) visit(body);
}

function functionName(definition: SyntaxNode, reader: SourceReader): string {
  const name = definition.getChild('VariableName');
  return name ? reader.text(name) : '<unnamed>';
}

function isMainGuard(statement: SyntaxNode, reader: SourceReader): boolean {
  const condition = children(statement)[1];
  if (!condition) return false;
  const text = reader.text(condition).replace(/\s+/g, '');
  return ['__name__=="__main__"', "__name__=='__main__'", '"__main__"==__name__', "'__main__'==__name__"].includes(text);
}

function bodyOf(statement: SyntaxNode): SyntaxNode {
  return statement.getChild('Body') ?? statement;
}

/** Collects the calls of plain names under a node, skipping nested function and class bodies. */
function collectCalls(node: SyntaxNode, reader: SourceReader): CallSite[] {
  const calls: CallSite[] = [];
  const visit = (parent: SyntaxNode) => {
    for (const child of children(parent)) {
      if (child.name === 'FunctionDefinition' || child.name === 'ClassDefinition' || child.name === 'LambdaExpression') continue;
      if (child.name === 'DecoratedStatement') continue;
      if (child.name === 'AssignStatement') {
        const parts = children(child);
        const operator = parts.findIndex((part) => part.name === 'AssignOp');
        const value = parts[parts.length - 1];
        if (operator > 0 && value?.name === 'CallExpression') {
          const targets = parts
            .slice(0, operator)
            .filter((part) => part.name === 'VariableName')
            .map((part) => reader.text(part));
          const call = readCall(value, reader, calls);
          if (call) {
            call.assignedTo = targets;
            calls.push(call);
          }
          continue;
        }
      }
      if (child.name === 'CallExpression') {
        const call = readCall(child, reader, calls);
        if (call) calls.push(call);
        continue;
      }
      visit(child);
    }
  };
  if (node.name === 'CallExpression') {
    const call = readCall(node, reader, calls);
    if (call) calls.push(call);
  } else {
    visit(node);
  }
  return calls;
}

/** Reads a call of a plain name. Calls nested in its arguments are pushed to `calls` first. */
function readCall(node: SyntaxNode, reader: SourceReader, calls: CallSite[]): CallSite | undefined {
  const callee = node.firstChild;
  const argumentList = node.getChild('ArgList');
  if (!callee || !argumentList) return undefined;

  const callArguments: CallArgument[] = [];
  for (const argument of splitArguments(argumentList)) {
    const keywordForm = argument[1]?.name === 'AssignOp' && argument[0]?.name === 'VariableName';
    const valueNode = keywordForm ? argument[2] : argument.length === 1 ? argument[0] : undefined;
    const entry: CallArgument = { location: reader.location(argument[0]!.from) };
    if (keywordForm) entry.keyword = reader.text(argument[0]!);
    if (valueNode?.name === 'VariableName') entry.variable = reader.text(valueNode);
    else if (valueNode?.name === 'CallExpression') {
      const nested = readCall(valueNode, reader, calls);
      if (nested) {
        calls.push(nested);
        entry.call = nested;
      }
    } else if (valueNode) {
      calls.push(...collectCalls(valueNode, reader));
    }
    callArguments.push(entry);
  }

  if (callee.name !== 'VariableName') {
    return undefined;
  }
  return { callee: reader.text(callee), location: reader.location(node.from), arguments: callArguments, assignedTo: [] };
}

/** Finds lezer's error nodes and turns the first ones into messages that say how to fix the line. */
function findSyntaxErrors(top: SyntaxNode, reader: SourceReader): Problem[] {
  const problems: Problem[] = [];
  const seenLines = new Set<number>();
  const cursor = top.cursor();
  do {
    if (!cursor.type.isError) continue;
    const node = cursor.node;
    const location = reader.location(node.from);
    if (seenLines.has(location.line)) continue;
    seenLines.add(location.line);
    problems.push(describeSyntaxError(node, reader));
  } while (cursor.next() && problems.length < 5);
  return problems;
}

function describeSyntaxError(node: SyntaxNode, reader: SourceReader): Problem {
  const location = reader.location(node.from);
  const parent = node.parent;
  const previous = node.prevSibling;
  const text = reader.text(node);

  if (parent?.name === 'DictionaryExpression' && text === '=' && previous?.name === 'String') {
    const entryEnd = findEntryEnd(node);
    const entry = reader.source.slice(previous.from, entryEnd).trim();
    const key = reader.text(previous);
    const rawValue = reader.source.slice(node.to, entryEnd).trim();
    const suggestion = suggestDictValue(rawValue);
    return {
      location: reader.location(previous.from),
      message: `invalid syntax in the dict entry ${entry}: a dict entry is written key: value, with a colon; write ${key}: ${suggestion}`,
    };
  }

  const opener = parent && (parent.name === 'ArgList' || parent.name === 'ParamList') ? parent.firstChild : undefined;
  if (opener?.name === '(' && !parent?.getChild(')')) {
    return {
      location: reader.location(opener.from),
      message: 'invalid syntax: this "(" is never closed; add ")" at the end of the argument list',
    };
  }

  const line = reader.source.slice(node.from).split('\n')[0] ?? '';
  const near = text.trim() || line.trim();
  const message =
    near === ''
      ? 'invalid syntax: the statement ends early; complete it, or check the brackets and quotes of the lines above'
      : `invalid syntax near ${JSON.stringify(abbreviate(near))}; fix the statement (python3 -m py_compile FILE reports the same line)`;
  return { location, message };
}

function findEntryEnd(node: SyntaxNode): number {
  let end = node.to;
  for (let sibling = node.nextSibling; sibling; sibling = sibling.nextSibling) {
    if (sibling.name === ',' || sibling.name === '}') break;
    end = sibling.to;
  }
  return end;
}

function suggestDictValue(rawValue: string): string {
  const match = /^(\d+(?:\.\d+)?)\s*([KMGTPE])i?[bB]?$/i.exec(rawValue);
  if (match) return `'${match[1]}${match[2]!.toUpperCase()}i'`;
  if (/^['"]/.test(rawValue)) return rawValue;
  return `'${rawValue}'`;
}

function abbreviate(text: string): string {
  const single = text.replace(/\s+/g, ' ');
  return single.length > 60 ? `${single.slice(0, 57)}...` : single;
}

function children(node: SyntaxNode): SyntaxNode[] {
  const list: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) list.push(child);
  return list;
}
