import type { Problem, SourceLocation } from './errors.ts';
import type { DecoratedFunction, Decorator, DecoratorKind, PyValue } from './parse.ts';
import type { DeclaredChannelKind, OutputSpec, Quantity, Resources } from './types.ts';
import { parseDuration, parseQuantity, suggestQuantity } from './quantity.ts';
import { closestName } from './names.ts';

/** Declarations of one decorated function, after checking every decorator argument. */
export interface FunctionDeclaration {
  function: DecoratedFunction;
  taskName: string;
  taskNameLocation: SourceLocation;
  inputs?: { names: string[]; location: SourceLocation };
  /** Set when `input=` is given but invalid, so that parameters without a producer are not reported again. */
  hasInvalidInputs?: boolean;
  output?: OutputSpec;
  /** Requests and limits from `@task`. */
  taskResources: Resources;
  /** Requests and limits from `@container`. */
  containerResources: Resources;
  replicas?: { value: number; location: SourceLocation };
  podReplicas?: { value: number; location: SourceLocation };
  maxRuntimeSeconds?: number;
  containerName?: { value: string; location: SourceLocation };
  podName?: { value: string; location: SourceLocation };
}

const resourceArguments = ['cpu_requests', 'cpu_limits', 'memory_requests', 'memory_limits', 'gpu_requests', 'gpu_limits'] as const;
type ResourceArgument = (typeof resourceArguments)[number];

/** Keyword arguments each decorator accepts. `input`, `output` and `max_runtime` belong to the function, so any of its decorators may carry them. */
const allowedArguments: Record<DecoratorKind, string[]> = {
  task: ['name', 'input', 'output', ...resourceArguments, 'num_replicas', 'max_runtime'],
  container: ['name', ...resourceArguments, 'input', 'output', 'max_runtime'],
  pod: ['name', 'num_replicas', 'input', 'output', 'max_runtime'],
};

const resourceFields: Record<ResourceArgument, keyof Resources> = {
  cpu_requests: 'cpuRequest',
  cpu_limits: 'cpuLimit',
  memory_requests: 'memoryRequest',
  memory_limits: 'memoryLimit',
  gpu_requests: 'gpuRequest',
  gpu_limits: 'gpuLimit',
};

const channelKinds: DeclaredChannelKind[] = ['PVC', 'Volume', 'IPC'];

/** Checks the decorators of one function and returns what they declare. Problems go to `problems`. */
export function readDeclaration(fn: DecoratedFunction, problems: Problem[]): FunctionDeclaration {
  const declaration: FunctionDeclaration = {
    function: fn,
    taskName: fn.name,
    taskNameLocation: fn.location,
    taskResources: {},
    containerResources: {},
  };
  const seenKinds = new Map<DecoratorKind, Decorator>();
  const functionLevel = new Map<string, Decorator>();

  for (const decorator of fn.decorators) {
    const earlier = seenKinds.get(decorator.kind);
    if (earlier) {
      problems.push({
        location: decorator.location,
        message: twoDecoratorsMessage(decorator, earlier, fn.name),
      });
      continue;
    }
    seenKinds.set(decorator.kind, decorator);
    if (decorator.unreadable?.includes('input')) declaration.hasInvalidInputs = true;

    for (const argument of decorator.arguments) {
      const allowed = allowedArguments[decorator.kind];
      if (!allowed.includes(argument.name)) {
        problems.push({ location: argument.location, message: unknownArgumentMessage(decorator, argument.name) });
        continue;
      }

      if (argument.value.kind === 'none') continue;

      if (['input', 'output', 'max_runtime'].includes(argument.name)) {
        const other = functionLevel.get(argument.name);
        if (other) {
          problems.push({
            location: argument.location,
            message: `${argument.name}= is given twice for ${fn.name}, on ${other.spelling} and on ${decorator.spelling}; keep it on one decorator`,
          });
          continue;
        }
        functionLevel.set(argument.name, decorator);
      }

      readArgument(declaration, decorator, argument.name, argument.value, problems);
    }
  }

  return declaration;
}

function twoDecoratorsMessage(decorator: Decorator, earlier: Decorator, functionName: string): string {
  if (decorator.kind === 'pod') {
    return `${functionName} has two @pod decorators (the first at line ${earlier.location.line}); a function runs in exactly one pod: remove one of them`;
  }
  if (decorator.kind === 'container') {
    return `${functionName} has two @container decorators (the first at line ${earlier.location.line}); a function runs in exactly one container: remove one of them`;
  }
  return `${functionName} has two @task decorators (the first at line ${earlier.location.line}); merge their arguments into one @task`;
}

function unknownArgumentMessage(decorator: Decorator, name: string): string {
  const allowed = allowedArguments[decorator.kind];
  const everywhere = [...new Set(Object.values(allowedArguments).flat())];
  const suggestion = closestName(name, everywhere);
  if (suggestion && allowed.includes(suggestion)) {
    return `${decorator.spelling} has no argument ${name}; did you mean ${suggestion}?`;
  }
  if (everywhere.includes(name)) {
    const owners = (Object.keys(allowedArguments) as DecoratorKind[]).filter((kind) => allowedArguments[kind].includes(name));
    return `${decorator.spelling} does not take ${name}; it belongs on ${owners.map((kind) => `@${kind}`).join(' or ')}`;
  }
  return `${decorator.spelling} has no argument ${name}; it takes ${allowed.join(', ')}`;
}

function readArgument(declaration: FunctionDeclaration, decorator: Decorator, name: string, value: PyValue, problems: Problem[]): void {
  const fn = declaration.function;
  switch (name) {
    case 'name': {
      if (value.kind !== 'str' || value.value.trim() === '') {
        problems.push({ location: value.location, message: `name= of ${decorator.spelling} must be a non-empty string, but got ${value.text}; write name='${fn.name}'` });
        return;
      }
      if (decorator.kind === 'task') {
        declaration.taskName = value.value;
        declaration.taskNameLocation = value.location;
      } else if (decorator.kind === 'container') declaration.containerName = { value: value.value, location: value.location };
      else declaration.podName = { value: value.value, location: value.location };
      return;
    }
    case 'input':
      declaration.inputs = readInputs(value, problems);
      if (!declaration.inputs) declaration.hasInvalidInputs = true;
      return;
    case 'output':
      declaration.output = readOutput(value, problems);
      return;
    case 'num_replicas': {
      if (value.kind !== 'int' || value.value < 1) {
        problems.push({
          location: value.location,
          message: `num_replicas=${value.text} is not a whole number of at least 1; Kubernetes runs a whole number of pod replicas: write num_replicas=${suggestReplicas(value)}`,
        });
        return;
      }
      const replicas = { value: value.value, location: value.location };
      if (decorator.kind === 'pod') declaration.podReplicas = replicas;
      else declaration.replicas = replicas;
      return;
    }
    case 'max_runtime': {
      let seconds: number | undefined;
      if (value.kind === 'str') seconds = parseDuration(value.value);
      else if ((value.kind === 'int' || value.kind === 'float') && value.value > 0) seconds = value.value;
      if (seconds === undefined) {
        const compact = value.kind === 'str' ? value.value.replace(/\s+/g, '') : '';
        const fix = compact !== '' && parseDuration(compact) !== undefined ? `write '${compact}', without spaces` : "write a string of hours, minutes and seconds such as '90s', '20m' or '1h30m', or a number of seconds";
        problems.push({ location: value.location, message: `max_runtime=${value.text} is not a positive duration; ${fix}` });
        return;
      }
      declaration.maxRuntimeSeconds = seconds;
      return;
    }
  }

  if ((resourceArguments as readonly string[]).includes(name)) {
    const quantity = readResource(name as ResourceArgument, value, decorator, problems);
    if (!quantity) return;
    const target = decorator.kind === 'container' ? declaration.containerResources : declaration.taskResources;
    target[resourceFields[name as ResourceArgument]] = quantity;
  }
}

function readInputs(value: PyValue, problems: Problem[]): { names: string[]; location: SourceLocation } | undefined {
  if (value.kind === 'str') return { names: [value.value], location: value.location };
  if ((value.kind === 'set' || value.kind === 'list' || value.kind === 'tuple') && value.items.every((item) => item.kind === 'str')) {
    if (value.items.length === 0) {
      problems.push({ location: value.location, message: `input= is empty; name the producer tasks, such as input={'download'}, or remove input=` });
      return undefined;
    }
    return { names: value.items.map((item) => (item as { value: string }).value), location: value.location };
  }
  problems.push({
    location: value.location,
    message: `input= must name producer tasks as a string or a set, list or tuple of strings, but got ${value.text}; write input={'download'}`,
  });
  return undefined;
}

function readOutput(value: PyValue, problems: Problem[]): OutputSpec | undefined {
  if (value.kind !== 'dict') {
    problems.push({ location: value.location, message: `output= must be a dict such as {'type': 'PVC', 'size': '20Gi'}, but got ${value.text}` });
    return undefined;
  }

  let type: DeclaredChannelKind | undefined;
  let size: Quantity | undefined;
  let valid = true;
  for (const { key, value: entry } of value.entries) {
    const keyName = key.kind === 'str' ? key.value : undefined;
    if (keyName === 'type') {
      const given = entry.kind === 'str' ? entry.value : undefined;
      const match = channelKinds.find((kind) => kind.toLowerCase() === given?.toLowerCase());
      if (!match) {
        problems.push({ location: entry.location, message: `output type ${entry.text} is not a channel ptk knows; use 'PVC' (any pods), 'Volume' or 'IPC' (containers of one pod)` });
        valid = false;
      } else if (match !== given) {
        problems.push({ location: entry.location, message: `output type ${entry.text} is spelled differently from the channel name; write '${match}'` });
        valid = false;
      } else {
        type = match;
      }
    } else if (keyName === 'size') {
      size = readMemory(entry, `the size ${entry.text} in output=`, 'storage', problems);
      if (!size) valid = false;
    } else {
      problems.push({ location: key.location, message: `output= has no key ${key.text}; it takes 'type' and 'size'` });
      valid = false;
    }
  }

  if (valid && !type) {
    problems.push({ location: value.location, message: `output= needs a 'type': write {'type': 'PVC'${size ? `, 'size': '${size.text}'` : ''}}` });
    return undefined;
  }
  if (!valid || !type) return undefined;
  return { type, size, location: value.location };
}

function suggestReplicas(value: PyValue): number {
  if (value.kind === 'int' || value.kind === 'float') return Math.max(1, Math.ceil(value.value));
  if (value.kind === 'str' && /^\s*\d+\s*$/.test(value.value)) return Math.max(1, Number(value.value));
  return 1;
}

/** Decimal suffixes that make a CPU quantity a thousand times larger or more, almost always a typo for `m`. */
const largeCpuSuffix = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)$/;

function readResource(name: ResourceArgument, value: PyValue, decorator: Decorator, problems: Problem[]): Quantity | undefined {
  if (name.startsWith('memory')) return readMemory(value, `${name}=${value.text}`, 'memory', problems);
  if (name.startsWith('gpu')) return readGpu(value, name, problems);

  const quantity = readQuantity(value);
  if (!quantity || quantity.value <= 0) {
    const hint = value.kind === 'str' ? suggestQuantity(value.value) : undefined;
    problems.push({
      location: value.location,
      message: `${name}=${value.text} is not a valid CPU quantity for ${decorator.spelling}; write cores as a number (0.5) or millicores as a string ('500m')${hint ? `, here '${hint}'` : ''}`,
    });
    return undefined;
  }

  const written = value.kind === 'str' ? value.value.trim() : '';
  const suffix = largeCpuSuffix.exec(written)?.[1];
  if (suffix) {
    const number = written.slice(0, -suffix.length);
    problems.push({
      location: value.location,
      message: `${name}=${value.text} is ${formatCount(quantity.value)} cores, because '${suffix}' multiplies by ${formatCount(quantity.value / Number(number))}; write millicores with a lowercase m ('${number}m') or cores as a number`,
    });
    return undefined;
  }
  return quantity;
}

/** Memory and sizes without a unit below this many bytes are almost always meant in Mi or Gi. */
const smallestUnitlessBytes = 2 ** 20;

/** Reads a quantity of bytes. `subject` names the value in messages, such as `memory_requests='8Gi'`. */
function readMemory(value: PyValue, subject: string, what: 'memory' | 'storage', problems: Problem[]): Quantity | undefined {
  const quantity = readQuantity(value);
  const units = 'the units are Ki, Mi, Gi, Ti (powers of 1024) and k, M, G, T (powers of 1000)';
  const isUnitless = value.kind !== 'str' || /^\s*[+-]?[\d.]+\s*$/.test(value.value);
  if (quantity && quantity.value > 0 && Number.isInteger(quantity.value)) {
    if (!isUnitless || quantity.value >= smallestUnitlessBytes) return quantity;
    const number = value.kind === 'str' ? value.value.trim() : value.text;
    problems.push({
      location: value.location,
      message: `${subject} is ${number} bytes, because a quantity without a unit counts bytes; ${units}: write '${number}Mi' or '${number}Gi'`,
    });
    return undefined;
  }

  const hint = value.kind === 'str' ? suggestQuantity(value.value) : undefined;
  const fix = hint ? `write '${hint}'` : "write a number with a unit, such as '512Mi' or '20Gi'";
  problems.push({ location: value.location, message: `${subject} is not a valid Kubernetes ${what} quantity; ${units}: ${fix}` });
  return undefined;
}

function readGpu(value: PyValue, name: string, problems: Problem[]): Quantity | undefined {
  const quantity = readQuantity(value);
  if (quantity && Number.isInteger(quantity.value) && quantity.value >= 0) return quantity;
  const rounded = quantity ? Math.max(1, Math.ceil(quantity.value)) : 1;
  problems.push({
    location: value.location,
    message: `${name}=${value.text} is not a whole number of GPUs; Kubernetes allocates GPUs as whole devices: write ${name}=${rounded}`,
  });
  return undefined;
}

function formatCount(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

function readQuantity(value: PyValue): Quantity | undefined {
  if (value.kind === 'int' || value.kind === 'float') return { text: value.text, value: value.value, location: value.location };
  if (value.kind !== 'str') return undefined;
  const parsed = parseQuantity(value.value);
  return parsed === undefined ? undefined : { text: value.value, value: parsed, location: value.location };
}

/**
 * Reports requests above limits, and GPU requests that differ from GPU limits, which Kubernetes rejects.
 * `resources` are a task's merged requests and limits, from its @task and its @container.
 */
export function checkRequestsAgainstLimits(resources: Resources, functionName: string, problems: Problem[]): void {
  const pairs: [keyof Resources, keyof Resources, string][] = [
    ['cpuRequest', 'cpuLimit', 'cpu'],
    ['memoryRequest', 'memoryLimit', 'memory'],
  ];
  for (const [requestField, limitField, label] of pairs) {
    const request = resources[requestField];
    const limit = resources[limitField];
    if (request && limit && request.value > limit.value) {
      problems.push({
        location: request.location,
        message: `${label}_requests ${request.text} is above ${label}_limits ${limit.text} for ${functionName}; Kubernetes rejects a request above its limit: raise the limit or lower the request`,
      });
    }
  }

  const gpuRequest = resources.gpuRequest;
  const gpuLimit = resources.gpuLimit;
  if (gpuRequest && gpuLimit && gpuRequest.value !== gpuLimit.value) {
    problems.push({
      location: gpuRequest.location,
      message: `gpu_requests ${gpuRequest.text} differs from gpu_limits ${gpuLimit.text} for ${functionName}; Kubernetes does not overcommit GPUs (extended resources), so the request must equal the limit: set both to ${gpuRequest.value}`,
    });
  }
}
