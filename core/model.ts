import { InputError, sortProblems, type Problem, type SourceLocation } from './errors.ts';
import type { CallSite, ParsedModule } from './parse.ts';
import type { Edge, Pipeline, Resources, Task } from './types.ts';
import { checkRequestsAgainstLimits, readDeclaration, type FunctionDeclaration } from './decorators.ts';
import { closestName, isDnsLabel, maxLabelLength, toDnsLabel } from './names.ts';
import { buildAnnotatedGrouping } from './grouping.ts';

/**
 * Builds the validated pipeline from a parsed module: tasks with their resources, the edges between
 * them and the user's own grouping. Every problem is collected, and one InputError reports them all.
 */
export function buildPipeline(module: ParsedModule): Pipeline {
  const problems: Problem[] = [...module.problems];
  if (problems.some((problem) => problem.message.startsWith('invalid syntax'))) throw new InputError(sortProblems(problems));

  const declarations = module.functions.map((fn) => readDeclaration(fn, problems));
  if (declarations.length === 0 && problems.length === 0) {
    throw new InputError([
      {
        location: { file: module.file, line: 1, column: 1 },
        message: 'no @task, @container or @pod decorator found; mark the pipeline steps with "from ptk import task" and @task(name=...)',
      },
    ]);
  }

  const tasks = declarations.map((declaration) => makeTask(declaration, problems));
  checkNames(declarations, tasks, problems);

  const byFunction = new Map(declarations.map((declaration, index) => [declaration.function.name, tasks[index]!]));
  const edges = inferEdges(declarations, tasks, byFunction, module.driverCalls, problems);
  checkImportTimeCalls(module.importTimeCalls, byFunction, problems);
  const inputLocations = new Map(declarations.flatMap((declaration, index) => (declaration.inputs ? [[tasks[index]!.name, declaration.inputs.location] as const] : [])));
  const ordered = orderTasks(tasks, edges, inputLocations, problems);

  const pipeline: Pipeline = { file: module.file, source: module.source, tasks: ordered, edges, annotated: { kind: 'annotated', pods: [] } };
  if (problems.length === 0) pipeline.annotated = buildAnnotatedGrouping(pipeline, declarations, problems);
  if (problems.length > 0) throw new InputError(sortProblems(problems));
  return pipeline;
}

function makeTask(declaration: FunctionDeclaration, problems: Problem[]): Task {
  const fn = declaration.function;
  const resources: Resources = { ...declaration.containerResources };
  for (const [field, quantity] of Object.entries(declaration.taskResources) as [keyof Resources, Resources[keyof Resources]][]) {
    const fromContainer = declaration.containerResources[field];
    if (fromContainer && quantity) {
      problems.push({
        location: quantity.location,
        message: `${fn.name} sets ${resourceArgumentName(field)} on both @task (${quantity.text}) and @container (${fromContainer.text}); keep it on one of them`,
      });
    }
    resources[field] = quantity;
  }
  checkRequestsAgainstLimits(resources, fn.name, problems);

  const replicas = declaration.podReplicas?.value ?? declaration.replicas?.value ?? 1;
  if (declaration.podReplicas && declaration.replicas && declaration.podReplicas.value !== declaration.replicas.value) {
    problems.push({
      location: declaration.replicas.location,
      message: `${fn.name} sets num_replicas=${declaration.replicas.value} on @task and num_replicas=${declaration.podReplicas.value} on @pod; the pod is what Kubernetes replicates: keep one of them`,
    });
  }

  return {
    name: declaration.taskName,
    functionName: fn.name,
    kubeName: toDnsLabel(declaration.taskName),
    location: fn.location,
    parameters: fn.parameters.map((parameter) => parameter.name),
    inputs: [],
    output: declaration.output,
    resources,
    replicas,
    maxRuntimeSeconds: declaration.maxRuntimeSeconds,
    containerName: declaration.containerName?.value,
    podName: declaration.podName?.value,
  };
}

function resourceArgumentName(field: keyof Resources): string {
  const names: Record<keyof Resources, string> = {
    cpuRequest: 'cpu_requests',
    cpuLimit: 'cpu_limits',
    memoryRequest: 'memory_requests',
    memoryLimit: 'memory_limits',
    gpuRequest: 'gpu_requests',
    gpuLimit: 'gpu_limits',
  };
  return names[field];
}

/** Reports duplicate task names and names that cannot become DNS-1123 labels, or collide once converted. */
function checkNames(declarations: FunctionDeclaration[], tasks: Task[], problems: Problem[]): void {
  const byName = new Map<string, FunctionDeclaration>();
  const byLabel = new Map<string, FunctionDeclaration>();

  declarations.forEach((declaration, index) => {
    const task = tasks[index]!;
    const location = declaration.taskNameLocation;
    const earlier = byName.get(task.name);
    if (earlier) {
      problems.push({
        location,
        message: `task name '${task.name}' is already used by ${earlier.function.name} at line ${earlier.taskNameLocation.line}; give each task its own name=`,
      });
      return;
    }
    byName.set(task.name, declaration);
    checkLabel(task.name, task.kubeName, 'task', location, problems, toDnsLabel(declaration.function.name));

    const collision = byLabel.get(task.kubeName);
    if (collision && task.kubeName !== '') {
      problems.push({
        location,
        message: `task names '${task.name}' and '${collision.taskName}' (line ${collision.taskNameLocation.line}) both become the Kubernetes name '${task.kubeName}'; rename one of them`,
      });
    }
    byLabel.set(task.kubeName, declaration);

    if (declaration.containerName) checkLabel(declaration.containerName.value, toDnsLabel(declaration.containerName.value), 'container', declaration.containerName.location, problems);
    if (declaration.podName) checkLabel(declaration.podName.value, toDnsLabel(declaration.podName.value), 'pod', declaration.podName.location, problems);
  });
}

function checkLabel(name: string, label: string, what: string, location: SourceLocation, problems: Problem[], example?: string): void {
  if (label === '') {
    const suggestion = example && isDnsLabel(example) ? example : `${what}-1`;
    problems.push({
      location,
      message: `${what} name '${name}' has no letters or digits that Kubernetes allows (a-z, 0-9, '-'); choose a name such as '${suggestion}'`,
    });
  } else if (label.length > maxLabelLength) {
    problems.push({
      location,
      message: `${what} name '${name}' becomes the Kubernetes name '${label.slice(0, 20)}...' of ${label.length} characters; Kubernetes names (DNS-1123 labels) are at most ${maxLabelLength} characters: shorten it`,
    });
  } else if (!isDnsLabel(label)) {
    problems.push({ location, message: `${what} name '${name}' does not become a valid DNS-1123 label ('${label}'); use lowercase letters, digits and '-'` });
  }
}

/**
 * Finds each task's producers: from `input=` where given, matching parameters to the names the
 * producers return; otherwise from the driver code, following the variables that carry return values.
 */
function inferEdges(
  declarations: FunctionDeclaration[],
  tasks: Task[],
  byFunction: Map<string, Task>,
  driverCalls: CallSite[],
  problems: Problem[],
): Edge[] {
  const edges: Edge[] = [];
  const byTaskName = new Map(tasks.map((task) => [task.name, task]));
  const declarationOf = new Map(declarations.map((declaration, index) => [tasks[index]!, declaration]));
  const driver = readDriver(driverCalls, byFunction, declarationOf, problems);

  declarations.forEach((declaration, index) => {
    const task = tasks[index]!;
    const fn = declaration.function;
    const bound = new Set<string>();
    let hasUnknownInput = false;

    if (declaration.inputs) {
      for (const producerName of declaration.inputs.names) {
        const producer = byTaskName.get(producerName) ?? byFunction.get(producerName);
        if (!producer) {
          hasUnknownInput = true;
          const suggestion = closestName(producerName, [...byTaskName.keys(), ...byFunction.keys()]);
          problems.push({
            location: declaration.inputs.location,
            message: `input '${producerName}' of ${fn.name} is not a task${suggestion ? `; did you mean '${suggestion}'?` : `; tasks are: ${[...byTaskName.keys()].join(', ')}`}`,
          });
          continue;
        }
        if (producer === task) {
          problems.push({ location: declaration.inputs.location, message: `${fn.name} lists itself in input=; a task cannot consume its own output: remove '${producerName}'` });
          continue;
        }
        const parameter = matchParameter(fn.parameters.map((p) => p.name), bound, producer, declarationOf.get(producer)!, declaration.inputs.names.length);
        if (!parameter) {
          const returned = declarationOf.get(producer)!.function.returnNames;
          problems.push({
            location: declaration.inputs.location,
            message: `input '${producerName}' of ${fn.name} matches no parameter: name a parameter of ${fn.name} after the value ${producer.functionName} returns${returned.length ? ` (${returned.join(', ')})` : ''}`,
          });
          continue;
        }
        bound.add(parameter);
        edges.push({ from: producer.name, to: task.name, parameter });
      }
      checkDriverAgrees(task, fn.name, edges.filter((edge) => edge.to === task.name), driver, hasUnknownInput, problems);
    } else {
      for (const edge of driver.edgesInto.get(task.name) ?? []) {
        bound.add(edge.parameter);
        edges.push(edge);
      }
    }

    for (const parameter of fn.parameters) {
      if (bound.has(parameter.name) || parameter.hasDefault || parameter.kind === 'varargs' || parameter.kind === 'varkw') continue;
      if (hasUnknownInput || declaration.hasInvalidInputs || driver.reported.has(`${task.name}\0${parameter.name}`) || driver.reported.has(`${task.name}\0*`)) continue;
      problems.push({ location: parameter.location, message: describeUnboundParameter(parameter.name, fn.name, task, declarations) });
    }
    task.inputs = edges.filter((edge) => edge.to === task.name).map((edge) => edge.from);
  });
  return edges;
}

/** Describes a parameter that receives no value, and suggests the task that returns a value of its name. */
function describeUnboundParameter(parameter: string, functionName: string, task: Task, declarations: FunctionDeclaration[]): string {
  const producer = declarations.find((declaration) => declaration.taskName !== task.name && declaration.function.returnNames.includes(parameter));
  const fix = producer
    ? `${producer.function.name} returns ${parameter}: add input={'${producer.taskName}'} to ${functionName}, or pass ${producer.function.name}'s result to it in main()`
    : `name its producer with input={'<task>'} on ${functionName}, pass a task's result to it in main(), or give it a default`;
  return `parameter ${parameter} of ${functionName} receives no value from another task; ${fix}`;
}

/**
 * Reports a task whose `input=` names other producers than the driver code passes it: plain Python
 * follows main(), ptk follows input=, so the two runs would compute different things.
 */
function checkDriverAgrees(task: Task, functionName: string, declared: Edge[], driver: Driver, hasUnknownInput: boolean, problems: Problem[]): void {
  const call = driver.calledAt.get(task.name);
  const passed = driver.edgesInto.get(task.name) ?? [];
  if (!call || hasUnknownInput || passed.length === 0) return;

  const describe = (edges: Edge[]) => [...new Set(edges.map((edge) => edge.from))].sort();
  const fromInput = describe(declared);
  const fromDriver = describe(passed);
  if (fromInput.join('\0') === fromDriver.join('\0')) return;
  problems.push({
    location: call.location,
    message:
      `the driver code passes ${functionName} the result of ${fromDriver.join(', ')}, but its input= names ${fromInput.join(', ') || 'no task'}; ` +
      'plain Python follows the driver code and ptk follows input=, so they would compute different things: make them name the same tasks',
  });
}

/** Matches a producer to a consumer parameter: by the name it returns, by its task or function name, or as the only one left. */
function matchParameter(parameters: string[], bound: Set<string>, producer: Task, producerDeclaration: FunctionDeclaration, producerCount: number): string | undefined {
  const free = parameters.filter((name) => !bound.has(name));
  const byReturn = free.find((name) => producerDeclaration.function.returnNames.includes(name));
  if (byReturn) return byReturn;
  const byName = free.find((name) => name === producer.name || name === producer.functionName);
  if (byName) return byName;
  if (producerCount === 1 && free.length === 1) return free[0];
  return undefined;
}

interface Driver {
  edgesInto: Map<string, Edge[]>;
  /** The driver's call of each task, by task name. */
  calledAt: Map<string, CallSite>;
  /** `task\0parameter` keys of parameters whose value the driver code passes wrongly, already reported; `task\0*` for a call with wrong arguments. */
  reported: Set<string>;
}

/** Follows the driver code: `b = prepare(a)` after `a = download()` makes the edge download → prepare. */
function readDriver(calls: CallSite[], byFunction: Map<string, Task>, declarationOf: Map<Task, FunctionDeclaration>, problems: Problem[]): Driver {
  const edgesInto = new Map<string, Edge[]>();
  const reported = new Set<string>();
  const producerOf = new Map<string, Task>();
  const nonTaskOf = new Map<string, CallSite>();
  const calledAt = new Map<string, CallSite>();

  for (const call of calls) {
    const task = byFunction.get(call.callee);
    if (task) {
      const earlier = calledAt.get(task.name);
      if (earlier && earlier !== call) {
        problems.push({
          location: call.location,
          message: `${call.callee} is called twice in the driver code (first at line ${earlier.location.line}); ptk runs each task once per run: call it once, or make a second task`,
        });
        continue;
      }
      calledAt.set(task.name, call);
      edgesInto.set(task.name, readTaskCall(call, task, declarationOf.get(task)!, producerOf, nonTaskOf, byFunction, reported, problems));
    }

    for (const variable of call.assignedTo) {
      if (task) {
        producerOf.set(variable, task);
        nonTaskOf.delete(variable);
      } else {
        nonTaskOf.set(variable, call);
        producerOf.delete(variable);
      }
    }
  }
  return { edgesInto, calledAt, reported };
}

/** Reads the arguments of one call of a task in the driver code and returns the edges they make. */
function readTaskCall(
  call: CallSite,
  task: Task,
  declaration: FunctionDeclaration,
  producerOf: Map<string, Task>,
  nonTaskOf: Map<string, CallSite>,
  byFunction: Map<string, Task>,
  reported: Set<string>,
  problems: Problem[],
): Edge[] {
  const parameters = declaration.function.parameters;
  const positional = parameters.filter((parameter) => parameter.kind === 'positional');
  const takesVarargs = parameters.some((parameter) => parameter.kind === 'varargs');
  const takesKeywords = parameters.some((parameter) => parameter.kind === 'varkw');
  const edges: Edge[] = [];

  call.arguments.forEach((argument, position) => {
    if (argument.text.startsWith('*')) return;
    const parameter = argument.keyword ?? positional[position]?.name;
    if (argument.keyword && !takesKeywords && !parameters.some((candidate) => candidate.name === argument.keyword && candidate.kind !== 'varargs')) {
      reported.add(`${task.name}\0*`);
      problems.push({ location: argument.location, message: `${call.callee} has no parameter ${argument.keyword}; its parameters are: ${parameters.map((p) => p.name).join(', ') || 'none'}` });
      return;
    }
    if (!parameter) {
      if (!takesVarargs) {
        reported.add(`${task.name}\0*`);
        problems.push({
          location: argument.location,
          message: `${call.callee} takes ${positional.length} positional argument${positional.length === 1 ? '' : 's'}, but this call passes ${call.arguments.filter((other) => !other.keyword).length}; remove the extra argument or add a parameter to ${call.callee}`,
        });
      }
      return;
    }

    let producer: Task | undefined;
    if (argument.call) producer = byFunction.get(argument.call.callee);
    else if (argument.variable) producer = producerOf.get(argument.variable);
    if (producer) {
      edges.push({ from: producer.name, to: task.name, parameter });
      return;
    }

    reported.add(`${task.name}\0${parameter}`);
    const source = argument.call ?? (argument.variable ? nonTaskOf.get(argument.variable) : undefined);
    const message = source
      ? `${call.callee} receives ${parameter} from ${source.callee}(), which is not a task; values pass between containers only as task outputs: decorate ${source.callee} with @task, or compute the value inside ${call.callee}`
      : `${call.callee} receives ${parameter}=${argument.text}, which is not the whole result of a task; values pass between containers only as task outputs: make it the default value of ${parameter}, or compute it inside ${call.callee}`;
    problems.push({ location: argument.location, message });
  });
  return edges;
}

/** Reports module-level calls of tasks or of main(), which would run the pipeline whenever the module is imported. */
function checkImportTimeCalls(calls: CallSite[], byFunction: Map<string, Task>, problems: Problem[]): void {
  for (const call of calls) {
    if (!byFunction.has(call.callee) && call.callee !== 'main') continue;
    problems.push({
      location: call.location,
      message: `${call.callee}() is called at module level, so importing the file runs the pipeline; move the call under if __name__ == "__main__":`,
    });
  }
}

/** Orders tasks so that producers come before consumers, keeping source order otherwise. Reports cycles. */
function orderTasks(tasks: Task[], edges: Edge[], inputLocations: Map<string, SourceLocation>, problems: Problem[]): Task[] {
  const byName = new Map(tasks.map((task) => [task.name, task]));
  const state = new Map<string, 'visiting' | 'done'>();
  const ordered: Task[] = [];
  const reported = new Set<string>();

  const visit = (task: Task, path: Task[]) => {
    const current = state.get(task.name);
    if (current === 'done') return;
    if (current === 'visiting') {
      const start = path.indexOf(task);
      const cycle = [...path.slice(start), task].reverse();
      const key = [...new Set(cycle.map((member) => member.name))].sort().join(',');
      if (!reported.has(key)) {
        reported.add(key);
        problems.push({
          location: inputLocations.get(task.name) ?? task.location,
          message: `tasks form a cycle: ${cycle.map((member) => member.name).join(' → ')}; a pipeline must be acyclic: remove one of these inputs`,
        });
      }
      return;
    }
    state.set(task.name, 'visiting');
    for (const edge of edges) {
      if (edge.to !== task.name) continue;
      const producer = byName.get(edge.from);
      if (producer) visit(producer, [...path, task]);
    }
    state.set(task.name, 'done');
    ordered.push(task);
  };

  for (const task of tasks) visit(task, []);
  return ordered;
}
