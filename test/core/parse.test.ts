import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseModule, type CallSite, type PyValue } from '../../core/parse.ts';
import type { SourceLocation } from '../../core/errors.ts';

const file = 'pipeline.py';

function at(line: number, column: number): SourceLocation {
  return { file, line, column };
}

function parse(lines: string[]) {
  return parseModule(`${lines.join('\n')}\n`, file);
}

/** Parses a module and keeps only each decorated function's name and its decorators' kind and spelling. */
function decoratorsOf(lines: string[]) {
  const module = parse(lines);
  return {
    functions: module.functions.map((fn) => ({ name: fn.name, decorators: fn.decorators.map((decorator) => `${decorator.kind} ${decorator.spelling}`) })),
    problems: module.problems.map((problem) => problem.message),
  };
}

function str(value: string, text: string, line: number, column: number): PyValue {
  return { kind: 'str', value, text, location: at(line, column) };
}

function num(kind: 'int' | 'float', value: number, text: string, line: number, column: number): PyValue {
  return { kind, value, text, location: at(line, column) };
}

// Import forms.

test('from ptk import task as t', () => {
  const result = decoratorsOf(['from ptk import task as t', '', '@t', 'def download():', '    return 1']);
  assert.equal(result, { functions: [{ name: 'download', decorators: ['task @t'] }], problems: [] });
});

test('import ptk with @ptk.task', () => {
  const result = decoratorsOf(['import ptk', '', '@ptk.task(name="a")', 'def download():', '    return 1']);
  assert.equal(result, { functions: [{ name: 'download', decorators: ['task @ptk.task'] }], problems: [] });
});

test('import ptk as p with @p.pod', () => {
  const result = decoratorsOf(['import ptk as p', '', '@p.pod(name="workers")', 'def download():', '    return 1']);
  assert.equal(result, { functions: [{ name: 'download', decorators: ['pod @p.pod'] }], problems: [] });
});

test('from ptk import * binds all three', () => {
  const result = decoratorsOf([
    'from ptk import *',
    '',
    '@task',
    'def a():',
    '    return 1',
    '',
    '@container(name="c")',
    'def b():',
    '    return 1',
    '',
    '@pod(name="p")',
    'def c():',
    '    return 1',
  ]);
  assert.equal(result, {
    functions: [
      { name: 'a', decorators: ['task @task'] },
      { name: 'b', decorators: ['container @container'] },
      { name: 'c', decorators: ['pod @pod'] },
    ],
    problems: [],
  });
});

test('@task of another library is ignored', () => {
  const result = decoratorsOf(['from celery import task', '', '@task', 'def download():', '    return 1']);
  assert.equal(result, { functions: [], problems: [] });
});

test('later import of task replaces ptk', () => {
  const result = decoratorsOf(['from ptk import task', 'from invoke import task', '', '@task', 'def build():', '    return 1']);
  assert.equal(result, { functions: [], problems: [] });
});

test('import in try with fallback', () => {
  const result = decoratorsOf([
    'try:',
    '    from ptk import task',
    'except ImportError:',
    '    def task(**options):',
    '        return lambda function: function',
    '',
    '@task(name="a")',
    'def download():',
    '    return 1',
  ]);
  assert.equal(result, { functions: [{ name: 'download', decorators: ['task @task'] }], problems: [] });
});

test('@task without import', () => {
  const result = decoratorsOf(['@task', 'def download():', '    return 1']);
  assert.equal(result, {
    functions: [],
    problems: ['@task is not imported from ptk: Python will raise NameError when the module loads; add "from ptk import task" at the top of the file'],
  });
});

test('stacked decorators keep source order', () => {
  const module = parse(['from ptk import container, pod, task', '', '@task(name="a")', '@container(name="c")', '@pod(name="p")', 'def download():', '    return 1']);
  assert.equal(
    module.functions[0]!.decorators.map((decorator) => ({ kind: decorator.kind, location: decorator.location, names: decorator.arguments.map((argument) => argument.name) })),
    [
      { kind: 'task', location: at(3, 1), names: ['name'] },
      { kind: 'container', location: at(4, 1), names: ['name'] },
      { kind: 'pod', location: at(5, 1), names: ['name'] },
    ],
  );
});

// Decorator arguments.

test('bare @task has no arguments', () => {
  const module = parse(['from ptk import task', '', '@task', 'def download():', '    return 1']);
  assert.equal(module.functions[0]!.decorators, [{ kind: 'task', spelling: '@task', location: at(3, 1), arguments: [] }]);
  assert.equal(module.problems, []);
});

test('every literal kind', () => {
  const module = parse([
    'from ptk import task',
    '',
    "@task(a='x', b=\"y\\n\", c=r'\\d', d='1' 'Gi', e=2, f=-0.5, g=1e3, h=0x10, i=True, j=None)",
    'def download():',
    '    return 1',
  ]);
  const values = Object.fromEntries(module.functions[0]!.decorators[0]!.arguments.map((argument) => [argument.name, argument.value]));
  assert.equal(values, {
    a: str('x', "'x'", 3, 9),
    b: str('y\n', '"y\\n"', 3, 16),
    c: str('\\d', "r'\\d'", 3, 25),
    d: str('1Gi', "'1' 'Gi'", 3, 34),
    e: num('int', 2, '2', 3, 46),
    f: num('float', -0.5, '-0.5', 3, 51),
    g: num('float', 1000, '1e3', 3, 59),
    h: num('int', 16, '0x10', 3, 66),
    i: { kind: 'bool', value: true, text: 'True', location: at(3, 74) },
    j: { kind: 'none', text: 'None', location: at(3, 82) },
  });
  assert.equal(module.problems, []);
});

test('containers and nesting', () => {
  const module = parse(['from ptk import task', '', "@task(a=['x', 2], b={'y'}, c=(1,), d={'type': 'PVC', 'size': ['1Gi']})", 'def download():', '    return 1']);
  const values = Object.fromEntries(module.functions[0]!.decorators[0]!.arguments.map((argument) => [argument.name, argument.value]));
  assert.equal(values, {
    a: { kind: 'list', text: "['x', 2]", location: at(3, 9), items: [str('x', "'x'", 3, 10), num('int', 2, '2', 3, 15)] },
    b: { kind: 'set', text: "{'y'}", location: at(3, 21), items: [str('y', "'y'", 3, 22)] },
    c: { kind: 'tuple', text: '(1,)', location: at(3, 30), items: [num('int', 1, '1', 3, 31)] },
    d: {
      kind: 'dict',
      text: "{'type': 'PVC', 'size': ['1Gi']}",
      location: at(3, 38),
      entries: [
        { key: str('type', "'type'", 3, 39), value: str('PVC', "'PVC'", 3, 47) },
        {
          key: str('size', "'size'", 3, 54),
          value: { kind: 'list', text: "['1Gi']", location: at(3, 62), items: [str('1Gi', "'1Gi'", 3, 63)] },
        },
      ],
    },
  });
});

test('comments inside decorator arguments', () => {
  const module = parse([
    'from ptk import (task,  # the decorator',
    '                 pod)',
    '',
    '@task(',
    '    # the name comes first',
    "    name='a',  # a comment after an argument",
    "    input=['x',  # inside a list",
    "           'y'],",
    "    output={'type': 'PVC',  # inside a dict",
    "            'size': '1Gi'},",
    ')',
    'def a(x, y):',
    '    return 1',
  ]);
  assert.equal(module.problems, []);
  const values = Object.fromEntries(module.functions[0]!.decorators[0]!.arguments.map((argument) => [argument.name, argument.value.text]));
  assert.equal(values, { name: "'a'", input: "['x',  # inside a list\n           'y']", output: "{'type': 'PVC',  # inside a dict\n            'size': '1Gi'}" });
  assert.equal(module.functions[0]!.decorators[0]!.arguments[2]!.value, {
    kind: 'dict',
    text: "{'type': 'PVC',  # inside a dict\n            'size': '1Gi'}",
    location: at(9, 12),
    entries: [
      { key: str('type', "'type'", 9, 13), value: str('PVC', "'PVC'", 9, 21) },
      { key: str('size', "'size'", 10, 13), value: str('1Gi', "'1Gi'", 10, 21) },
    ],
  });
});

test('argument location is the keyword', () => {
  const module = parse(['from ptk import task', '', '@task(', "    name='a',", ')', 'def download():', '    return 1']);
  assert.equal(module.functions[0]!.decorators[0]!.arguments, [{ name: 'name', location: at(4, 5), value: str('a', "'a'", 4, 10) }]);
});

// Module-level constants.

test('constant takes its literal', () => {
  const module = parse(['from ptk import task', '', "SIZE: str = '20Gi'", 'A = B = 2', '', '@task(memory_requests=SIZE, num_replicas=B)', 'def download():', '    return 1']);
  assert.equal(module.functions[0]!.decorators[0]!.arguments, [
    { name: 'memory_requests', location: at(6, 7), value: str('20Gi', 'SIZE', 6, 23) },
    { name: 'num_replicas', location: at(6, 29), value: num('int', 2, 'B', 6, 42) },
  ]);
  assert.equal(module.problems, []);
});

test('constant value at decorator position', () => {
  const module = parse([
    'from ptk import task',
    '',
    "MEMORY = '1Gi'",
    '',
    '@task(memory_requests=MEMORY)',
    'def first():',
    '    return 1',
    '',
    "MEMORY = '2Gi'",
    '',
    '@task(memory_requests=MEMORY)',
    'def second():',
    '    return 1',
  ]);
  assert.equal(
    module.functions.map((fn) => fn.decorators[0]!.arguments[0]!.value),
    [str('1Gi', 'MEMORY', 5, 23), str('2Gi', 'MEMORY', 11, 23)],
  );
});

test('constant defined later is undefined', () => {
  const module = parse(['from ptk import task', '', '@task(memory_requests=MEMORY)', 'def first():', '    return 1', '', "MEMORY = '1Gi'"]);
  assert.equal(module.problems, [
    {
      location: at(3, 23),
      message:
        'memory_requests= uses MEMORY, which is not defined above this decorator; decorator arguments must be literals or module-level constants bound to literals: assign MEMORY = <literal> above the function, or write the value itself',
    },
  ]);
});

test('constant changed with += is rejected', () => {
  const module = parse(['from ptk import task', '', 'N = 2', 'N += 1', '', '@task(num_replicas=N)', 'def first():', '    return 1']);
  assert.equal(module.problems, [
    {
      location: at(6, 20),
      message:
        'num_replicas= uses N, which is not a literal because it is changed with += at line 4; ptk reads decorator arguments without running the file: write the value itself, or bind N to a literal once, above the function',
    },
  ]);
});

test('imported constant is rejected', () => {
  const module = parse(['from ptk import task', 'from settings import MEMORY', '', '@task(memory_requests=MEMORY)', 'def first():', '    return 1']);
  assert.equal(module.problems.map((problem) => problem.message), [
    'memory_requests= uses MEMORY, which is not a literal because it is imported from settings, and ptk reads only this file; ptk reads decorator arguments without running the file: write the value itself, or bind MEMORY to a literal once, above the function',
  ]);
});

// Functions.

test('parameters and return names', () => {
  const module = parse([
    'from ptk import task',
    '',
    '@task',
    'def train(data, rate=0.1, *rest, seed, **options):',
    '    def helper():',
    '        return ignored',
    '    if rate:',
    '        return model',
    '    return model',
  ]);
  const fn = module.functions[0]!;
  assert.equal(fn.location, at(4, 5));
  assert.equal(fn.parameters, [
    { name: 'data', location: at(4, 11), kind: 'positional', hasDefault: false },
    { name: 'rate', location: at(4, 17), kind: 'positional', hasDefault: true },
    { name: 'rest', location: at(4, 28), kind: 'varargs', hasDefault: false },
    { name: 'seed', location: at(4, 34), kind: 'keyword-only', hasDefault: false },
    { name: 'options', location: at(4, 42), kind: 'varkw', hasDefault: false },
  ]);
  assert.equal(fn.returnNames, ['model']);
});

// Driver code and import-time calls.

function call(callee: string, line: number, column: number, assignedTo: string[], args: CallSite['arguments'] = []): CallSite {
  return { callee, location: at(line, column), arguments: args, assignedTo };
}

test('driver calls from main()', () => {
  const module = parse([
    'from ptk import task',
    '',
    'def main():',
    '    raw = download()',
    '    clean = prepare(raw, rate=0.5)',
    '',
    'if __name__ == "__main__":',
    '    main()',
  ]);
  assert.equal(module.driverCalls, [
    call('download', 4, 11, ['raw']),
    call('prepare', 5, 13, ['clean'], [
      { variable: 'raw', text: 'raw', location: at(5, 21) },
      { keyword: 'rate', text: '0.5', location: at(5, 26) },
    ]),
    call('main', 8, 5, []),
  ]);
  assert.equal(module.importTimeCalls, []);
});

test('nested calls in the main block', () => {
  const module = parse(['from ptk import task', '', "if __name__ == '__main__':", '    evaluate(train(prepare(x)))']);
  const prepare = call('prepare', 4, 20, [], [{ variable: 'x', text: 'x', location: at(4, 28) }]);
  const train = call('train', 4, 14, [], [{ call: prepare, text: 'prepare(x)', location: at(4, 20) }]);
  const evaluate = call('evaluate', 4, 5, [], [{ call: train, text: 'train(prepare(x))', location: at(4, 14) }]);
  assert.equal(module.driverCalls, [prepare, train, evaluate]);
});

test('module-level calls run at import', () => {
  const module = parse(['from ptk import task', '', 'data = download()', 'for item in range(2):', '    prepare(item)', 'def main():', '    pass']);
  assert.equal(
    module.importTimeCalls.map((site) => [site.callee, site.location.line]),
    [
      ['download', 3],
      ['range', 4],
      ['prepare', 5],
    ],
  );
  assert.equal(module.driverCalls, []);
});

// Syntax errors.

test('syntax error stops parsing', () => {
  const module = parse(['from ptk import task', '', "@task(output={'type': 'PVC', 'size'=20Gb})", 'def download():', '    return 1']);
  assert.equal(module.functions, []);
  assert.equal(module.problems, [
    {
      location: at(3, 30),
      message: "invalid syntax in the dict entry 'size'=20Gb: a dict entry is written key: value, with a colon, and a size is a quoted Kubernetes quantity; write 'size': '20Gi'",
    },
  ]);
});

test('unclosed bracket names its opener', () => {
  const module = parse(['from ptk import task', '', "@task(output={'type': 'PVC'", 'def download():', '    return 1']);
  assert.equal(module.problems, [
    { location: at(3, 14), message: 'invalid syntax: this "{" is never closed; add "}" at the end of the dict, then ")" for the "(" at line 3 column 6' },
  ]);
});

test('missing colon after if', () => {
  const module = parse(['X = 1', 'if X', '    X = 2']);
  assert.equal(module.problems, [{ location: at(2, 5), message: 'invalid syntax: expected ":" at the end of the "if" line; write if X:' }]);
});

test('valid forms lezer rejects alone', () => {
  const module = parse([
    'from ptk import task',
    '',
    'RATE = 24.',
    'print = 3',
    '\f',
    '@task(cpu_requests=RATE)',
    'def stream(data):',
    '    with (open(data) as source,',
    '          open(data) as copy):  # two files',
    '        yield',
  ]);
  assert.equal(module.problems, []);
  assert.equal(module.functions[0]!.decorators[0]!.arguments[0]!.value, num('float', 24, 'RATE', 6, 20));
});

test('byte order mark takes no column', () => {
  const module = parseModule("\uFEFFfrom ptk import task\n@task(cpu_requests=f())\ndef a():\n    return 1\n", file);
  assert.equal(module.problems.map((problem) => problem.location), [at(2, 20)]);
});

test('task inside if is reported', () => {
  const module = parse(['from ptk import task', 'import os', '', "if os.environ.get('GPU'):", '    @task', '    def train():', '        return 1']);
  assert.equal(module.functions, []);
  assert.equal(module.problems, [
    {
      location: at(5, 5),
      message:
        '@task on train, which is defined inside the if statement at line 4; ptk reads the file without running it, so it finds tasks only at the top level: move train out of that statement',
    },
  ]);
});

test.run();
