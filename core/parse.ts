import { parser } from '@lezer/python';
import type { SyntaxNode } from '@lezer/common';
import type { Problem, SourceLocation } from './errors.ts';
import { abbreviate, SourceReader } from './source-reader.ts';
import { findSyntaxErrors, scanSource } from './python-syntax.ts';

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
  /** Spelling of the decorator as written, such as `@task` or `@ptk.pod`. */
  spelling: string;
  location: SourceLocation;
  arguments: DecoratorArgument[];
  /** Names of keyword arguments whose value is not a literal, already reported. */
  unreadable?: string[];
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
  /** The source text of the value passed. */
  text: string;
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
  const result: ParsedModule = { file, source, functions: [], driverCalls: [], importTimeCalls: [], problems: [] };

  const scan = scanSource(reader);
  if (scan.problem) {
    result.problems = [scan.problem];
    return result;
  }
  const tree = parser.parse(scan.lezerSource);
  const syntaxProblems = findSyntaxErrors(tree.topNode, reader);
  if (syntaxProblems.length > 0) {
    result.problems = syntaxProblems;
    return result;
  }

  const scope = new ModuleScope(reader);
  let mainFunction: SyntaxNode | undefined;
  for (const statement of children(tree.topNode)) {
    switch (statement.name) {
      case 'ImportStatement':
        scope.readImport(statement);
        break;
      case 'AssignStatement':
        scope.readAssignment(statement);
        result.importTimeCalls.push(...collectCalls(statement, reader));
        break;
      case 'UpdateStatement':
        scope.readUpdate(statement);
        result.importTimeCalls.push(...collectCalls(statement, reader));
        break;
      case 'DecoratedStatement': {
        const definition = readDecorated(statement, scope, reader, result.problems);
        if (definition?.function) result.functions.push(definition.function);
        if (definition?.plainName === 'main') mainFunction = definition.body;
        const inner = statement.getChild('FunctionDefinition') ?? statement.getChild('ClassDefinition');
        if (inner) scope.readDefinition(inner);
        break;
      }
      case 'FunctionDefinition':
        reportNestedDecorators(statement, scope, reader, result.problems);
        if (functionName(statement, reader) === 'main') mainFunction = statement;
        scope.readDefinition(statement);
        break;
      case 'ClassDefinition':
        reportNestedDecorators(statement, scope, reader, result.problems);
        scope.readDefinition(statement);
        break;
      case 'IfStatement':
        reportNestedDecorators(statement, scope, reader, result.problems, describeBlock(statement, reader));
        if (isMainGuard(statement, reader)) {
          result.driverCalls.push(...collectCalls(bodyOf(statement), reader));
        } else {
          scope.readCompound(statement);
          result.importTimeCalls.push(...collectCalls(statement, reader));
        }
        break;
      case 'TryStatement':
      case 'ForStatement':
      case 'WhileStatement':
      case 'WithStatement':
        reportNestedDecorators(statement, scope, reader, result.problems, describeBlock(statement, reader));
        scope.readCompound(statement);
        result.importTimeCalls.push(...collectCalls(statement, reader));
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

/** The binding of a module-level name where a decorator reads it: a literal, or the reason it is not one. */
type Binding = { value: PyValue; reason?: undefined } | { value?: undefined; reason: string };

/** Meaning of module-level names at a point of the module: ptk imports and literal constants. */
class ModuleScope {
  /** Local names bound to a ptk decorator: `task`, or `t` after `from ptk import task as t`. */
  readonly decoratorAliases = new Map<string, DecoratorKind>();
  /** Local names bound to the ptk module itself: `ptk`, or `p` after `import ptk as p`. */
  readonly moduleAliases = new Set<string>();
  /** Names imported from other modules, with the module, so `@task` from another library is not mistaken for ptk's. */
  readonly foreignNames = new Map<string, string>();
  /** Module-level names defined with `def` or `class`. */
  readonly definitions = new Set<string>();
  /** Module-level names and what they are bound to at this point of the module. */
  readonly constants = new Map<string, Binding>();

  constructor(private readonly reader: SourceReader) {}

  readImport(statement: SyntaxNode): void {
    const reader = this.reader;
    const parts = children(statement);
    const isFrom = parts[0]?.name === 'from';
    if (isFrom) {
      const importIndex = parts.findIndex((part) => part.name === 'import');
      const moduleName = parts
        .slice(1, importIndex)
        .map((part) => reader.text(part))
        .join('');
      for (const [name, alias] of importedNames(parts.slice(importIndex + 1), reader)) {
        this.constants.delete(alias);
        if (moduleName === 'ptk' && decoratorKinds.has(name)) this.decoratorAliases.set(alias, name as DecoratorKind);
        else if (moduleName === 'ptk' && name === '*') for (const kind of decoratorKinds) this.decoratorAliases.set(kind, kind as DecoratorKind);
        else {
          this.foreignNames.set(alias, moduleName);
          this.decoratorAliases.delete(alias);
        }
      }
      return;
    }

    for (const [name, alias] of importedNames(parts.slice(1), reader)) {
      const bound = alias === name ? name.split('.')[0]! : alias;
      this.constants.delete(bound);
      if (name === 'ptk' || (alias === name && name.startsWith('ptk.'))) this.moduleAliases.add(bound);
      else this.foreignNames.set(bound, name);
    }
  }

  /** Binds the targets of `NAME = value`, `NAME: type = value` and `A = B = value`. */
  readAssignment(statement: SyntaxNode): void {
    const reader = this.reader;
    const parts = children(statement);
    const operators = parts.flatMap((part, index) => (part.name === 'AssignOp' ? [index] : []));
    const valueNode = parts[parts.length - 1];
    if (operators.length === 0 || !valueNode) return;

    const line = reader.location(statement.from).line;
    const evaluated = evaluate(valueNode, this, reader, []);
    let start = 0;
    for (const operator of operators) {
      const target = parts.slice(start, operator).filter((part) => part.name !== 'TypeDef');
      start = operator + 1;
      const [only] = target;
      if (target.length === 1 && only?.name === 'VariableName') {
        const name = reader.text(only);
        this.decoratorAliases.delete(name);
        this.constants.set(name, evaluated ? { value: evaluated } : { reason: `it is bound to ${abbreviate(reader.text(valueNode))} at line ${line}` });
        continue;
      }
      for (const node of target) this.markChanged(node, `it is assigned by unpacking at line ${line}`, `it is changed at line ${line}`);
    }
  }

  /** Marks the names that `NAME += value` changes as no longer literals. */
  readUpdate(statement: SyntaxNode): void {
    const target = statement.firstChild;
    const operator = statement.getChild('UpdateOp');
    const line = this.reader.location(statement.from).line;
    if (target) this.markChanged(target, `it is changed with ${operator ? this.reader.text(operator) : 'an update'} at line ${line}`, `it is changed at line ${line}`);
  }

  /**
   * Reads a module-level compound statement (if, try, for, while, with): imports in it count, as in
   * `try: from ptk import task`, and names assigned in it are no longer literals, because their value
   * depends on how the statement runs. An assignment in it keeps a ptk decorator import, so that the
   * fallback `except ImportError: task = ...` does not hide the import above it.
   */
  readCompound(statement: SyntaxNode): void {
    const reason = `it is assigned inside ${describeBlock(statement, this.reader)}`;
    const visit = (node: SyntaxNode) => {
      for (const child of children(node)) {
        if (['FunctionDefinition', 'ClassDefinition', 'DecoratedStatement', 'LambdaExpression'].includes(child.name)) continue;
        if (child.name === 'ImportStatement') this.readImport(child);
        else if (child.name === 'AssignStatement' || child.name === 'UpdateStatement') {
          const parts = children(child);
          const operators = parts.flatMap((part, index) => (part.name === 'AssignOp' || part.name === 'UpdateOp' ? [index] : []));
          const last = operators[operators.length - 1] ?? 0;
          for (const target of parts.slice(0, last)) {
            if (!this.decoratorAliases.has(this.reader.text(target))) this.markChanged(target, reason, reason);
          }
        } else visit(child);
      }
    };
    visit(statement);
    if (statement.name === 'ForStatement') {
      const parts = children(statement);
      const inIndex = parts.findIndex((part) => part.name === 'in');
      for (const target of parts.slice(1, Math.max(inIndex, 1))) this.markChanged(target, reason, reason);
    }
  }

  readDefinition(statement: SyntaxNode): void {
    const name = statement.getChild('VariableName');
    if (!name) return;
    const text = this.reader.text(name);
    this.definitions.add(text);
    this.decoratorAliases.delete(text);
    this.constants.set(text, { reason: `it is a ${statement.name === 'ClassDefinition' ? 'class' : 'function'} defined at line ${this.reader.location(statement.from).line}` });
  }

  /** Records that the names a target binds, or the constant it changes (`SIZES['a'] = ...`), are no longer literals. */
  private markChanged(target: SyntaxNode, boundReason: string, changedReason: string): void {
    if (target.name === 'VariableName') {
      const name = this.reader.text(target);
      this.decoratorAliases.delete(name);
      this.constants.set(name, { reason: boundReason });
      return;
    }
    if (target.name === 'MemberExpression' || target.name === 'SubscriptExpression') {
      const base = target.firstChild;
      if (base?.name === 'VariableName' && this.constants.has(this.reader.text(base))) this.constants.set(this.reader.text(base), { reason: changedReason });
      return;
    }
    for (const child of children(target)) this.markChanged(child, boundReason, changedReason);
  }

  resolveDecorator(node: SyntaxNode): { kind?: DecoratorKind; spelling: string; missingImport?: string } {
    const reader = this.reader;
    const parts = children(node).filter((part) => part.name !== 'At' && part.name !== 'ArgList');
    const spelling = `@${parts.map((part) => reader.text(part)).join('')}`;
    const names = parts.filter((part) => part.name === 'VariableName').map((part) => reader.text(part));
    const isUnbound = (name: string) => !this.foreignNames.has(name) && !this.constants.has(name) && !this.definitions.has(name);

    if (names.length === 1) {
      const name = names[0]!;
      const kind = this.decoratorAliases.get(name);
      if (kind) return { kind, spelling };
      if (decoratorKinds.has(name) && isUnbound(name)) return { spelling, missingImport: `from ptk import ${name}` };
      return { spelling };
    }
    if (names.length === 2 && decoratorKinds.has(names[1]!)) {
      if (this.moduleAliases.has(names[0]!)) return { kind: names[1] as DecoratorKind, spelling };
      if (names[0] === 'ptk' && isUnbound('ptk')) return { spelling, missingImport: 'import ptk' };
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
    const resolved = scope.resolveDecorator(node);
    if (resolved.missingImport) {
      problems.push({
        location: reader.location(node.from),
        message:
          resolved.missingImport === 'import ptk'
            ? `${resolved.spelling} uses the module ptk, which is not imported: Python will raise NameError when the module loads; add "import ptk" at the top of the file`
            : `${resolved.spelling} is not imported from ptk: Python will raise NameError when the module loads; add "${resolved.missingImport}" at the top of the file`,
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

  const seen = new Map<string, SourceLocation>();
  for (const argument of splitArguments(argumentList)) {
    const [first, second, third] = argument;
    const start = argument[0]!;
    const text = reader.source.slice(start.from, argument[argument.length - 1]!.to);
    if (first && second?.name === 'AssignOp' && third && first.name === 'VariableName') {
      const name = reader.text(first);
      const location = reader.location(first.from);
      const earlier = seen.get(name);
      if (earlier) {
        const firstPlace = earlier.line === location.line ? `column ${earlier.column}` : `line ${earlier.line}`;
        problems.push({ location, message: `${spelling} repeats ${name}= (first at ${firstPlace}); Python rejects a repeated keyword argument: keep one of them` });
        continue;
      }
      seen.set(name, location);
      const value = evaluate(third, scope, reader, problems, name);
      if (value) decorator.arguments.push({ name, value, location });
      else decorator.unreadable = [...(decorator.unreadable ?? []), name];
      continue;
    }

    if (first?.name === '*' || first?.name === '**') {
      problems.push({
        location: reader.location(start.from),
        message: `${spelling} unpacks ${text}, which ptk cannot read without running the file; write each argument as a keyword, such as name='${functionNameOf(node, reader)}'`,
      });
      continue;
    }
    const example = start.name === 'String' && argument.length === 1 ? `name=${text}` : `name='${functionNameOf(node, reader)}'`;
    problems.push({
      location: reader.location(start.from),
      message: `${spelling} takes keyword arguments only, but got the positional argument ${abbreviate(text)}; write it as keyword=value, such as ${example}`,
    });
  }
  return decorator;
}

/** Returns the name of the function or class that a decorator node decorates. */
function functionNameOf(decorator: SyntaxNode, reader: SourceReader): string {
  const definition = decorator.parent?.getChild('FunctionDefinition') ?? decorator.parent?.getChild('ClassDefinition');
  return definition ? functionName(definition, reader) : 'task';
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
function evaluate(node: SyntaxNode, scope: ModuleScope, reader: SourceReader, problems: Problem[], argumentName?: string): PyValue | undefined {
  const text = reader.text(node);
  const location = reader.location(node.from);
  const base = { text, location };
  const argument = argumentName ? `${argumentName}=` : 'the decorator argument';

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
        const item = evaluate(part, scope, reader, problems, argumentName);
        if (!item) return undefined;
        items.push(item);
      }
      const kinds: Record<string, 'list' | 'set' | 'tuple'> = { ArrayExpression: 'list', SetExpression: 'set', TupleExpression: 'tuple' };
      const kind = kinds[node.name]!;
      return { ...base, kind, items };
    }
    case 'ParenthesizedExpression': {
      const inner = children(node).find((part) => part.name !== '(' && part.name !== ')');
      return inner ? evaluate(inner, scope, reader, problems, argumentName) : undefined;
    }
    case 'DictionaryExpression': {
      const entries: { key: PyValue; value: PyValue }[] = [];
      const parts = children(node).filter((part) => !['{', '}', ','].includes(part.name));
      for (let index = 0; index + 2 < parts.length + 1; index += 3) {
        const [keyNode, colon, valueNode] = parts.slice(index, index + 3);
        if (!keyNode || colon?.name !== ':' || !valueNode) break;
        const key = evaluate(keyNode, scope, reader, problems, argumentName);
        const value = evaluate(valueNode, scope, reader, problems, argumentName);
        if (!key || !value) return undefined;
        entries.push({ key, value });
      }
      return { ...base, kind: 'dict', entries };
    }
    case 'VariableName': {
      const binding = scope.constants.get(text);
      if (binding?.value) return { ...binding.value, location, text };
      const module = scope.foreignNames.get(text);
      const reason = binding?.reason ?? (module !== undefined ? `it is imported from ${module}, and ptk reads only this file` : undefined);
      const message = reason
        ? `${argument} uses ${text}, which is not a literal because ${reason}; ptk reads decorator arguments without running the file: write the value itself, or bind ${text} to a literal once, above the function`
        : `${argument} uses ${text}, which is not defined above this decorator; decorator arguments must be literals or module-level constants bound to literals: assign ${text} = <literal> above the function, or write the value itself`;
      problems.push({ location, message });
      return undefined;
    }
  }

  problems.push({
    location,
    message: `${argument} uses the expression ${abbreviate(text)}, which is not a literal; ptk reads decorator arguments without running the file, so they must be literals (strings, numbers, booleans, None, lists, sets, tuples, dicts) or module-level constants: write the value itself`,
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

    let kind: Parameter['kind'] = keywordOnly ? 'keyword-only' : 'positional';
    if (pendingStar === '*') kind = 'varargs';
    else if (pendingStar === '**') kind = 'varkw';
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

/**
 * Reports ptk decorators on functions that are not at module level (methods, nested functions), or, when
 * `block` names a module-level compound statement, on functions that it defines only when it runs.
 */
function reportNestedDecorators(node: SyntaxNode, scope: ModuleScope, reader: SourceReader, problems: Problem[], block?: string): void {
  const visit = (parent: SyntaxNode) => {
    for (const child of children(parent)) {
      if (child.name === 'DecoratedStatement') {
        for (const decorator of child.getChildren('Decorator')) {
          const resolved = scope.resolveDecorator(decorator);
          if (!resolved.kind) continue;
          const inner = child.getChild('FunctionDefinition') ?? child.getChild('ClassDefinition');
          const name = inner ? functionName(inner, reader) : 'this definition';
          const message = block
            ? `${resolved.spelling} on ${name}, which is defined inside ${block}; ptk reads the file without running it, so it finds tasks only at the top level: move ${name} out of that statement`
            : `${resolved.spelling} on ${name}, which is not a module-level function; ptk imports tasks by name from the module: move ${name} to the top level of the file`;
          problems.push({ location: reader.location(decorator.from), message });
        }
      }
      visit(child);
    }
  };
  if (block) {
    visit(node);
    return;
  }
  const body = node.getChild('Body');
  if (body) visit(body);
}

/** Names a module-level compound statement for messages, such as `the if statement at line 8`. */
function describeBlock(statement: SyntaxNode, reader: SourceReader): string {
  const keyword = /^\w+/.exec(reader.text(statement))?.[0] ?? 'compound';
  return `the ${keyword} statement at line ${reader.location(statement.from).line}`;
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
    let valueNode: SyntaxNode | undefined;
    if (keywordForm) valueNode = argument[2];
    else if (argument.length === 1) valueNode = argument[0];
    const entry: CallArgument = {
      location: reader.location(argument[0]!.from),
      text: valueNode ? abbreviate(reader.text(valueNode)) : abbreviate(reader.source.slice(argument[0]!.from, argument[argument.length - 1]!.to)),
    };
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


/** Returns a node's children without comments, which can sit between any two tokens inside brackets. */
function children(node: SyntaxNode): SyntaxNode[] {
  const list: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) if (child.name !== 'Comment') list.push(child);
  return list;
}
