import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseProfile } from '../../core/profile.ts';
import { InputError } from '../../core/errors.ts';

function problemsOf(text: string): string[] {
  try {
    parseProfile(text, 'p.json');
  } catch (error) {
    assert.instance(error, InputError);
    return (error as InputError).message.split('\n');
  }
  throw new Error('expected the profile to be rejected');
}

const sample = { machine_type: 'local', vcpus: 2, accelerator: null, wall_s: [1.5], where: 'local', measured_at: '2026-12-04' };

test('valid profile parses', () => {
  const profile = parseProfile(JSON.stringify({ version: 1, overheads: { pod_start_s: 0.1, container_start_s: 0.2 }, tasks: { a: { samples: [sample] } } }), 'p.json');
  assert.is(profile.tasks.a!.samples[0]!.wall_s[0], 1.5);
});

test('profile invalid JSON', () => {
  const [message] = problemsOf('{"version": 1,');
  assert.match(message!, /^p\.json: invalid JSON \(.+\); fix the file or record it again with "ptk profile"$/);
});

test('profile not an object', () => {
  assert.equal(problemsOf('[]'), ['p.json: a profile is a JSON object with "version", "overheads" and "tasks"']);
});

test('profile top-level problems together', () => {
  assert.equal(problemsOf(JSON.stringify({ version: 2 })), [
    'p.json: version: unsupported version 2; this ptk reads version 1',
    'p.json: overheads: missing; write {"pod_start_s": 0, "container_start_s": 0}',
    'p.json: tasks: missing; write {"<task name>": {"samples": [...]}}',
  ]);
});

test('profile overhead and channel values', () => {
  const text = JSON.stringify({
    version: 1,
    overheads: { pod_start_s: -1, channel_bytes_per_s: { PVC: 0, S3: 5 } },
    tasks: {},
  });
  assert.equal(problemsOf(text), [
    'p.json: overheads.pod_start_s: must be a number of seconds of at least 0, but is -1',
    'p.json: overheads.container_start_s: must be a number of seconds of at least 0, but is missing',
    'p.json: overheads.channel_bytes_per_s.PVC: must be a positive number of bytes per second, but is 0',
    'p.json: overheads.channel_bytes_per_s.S3: is not a channel; use PVC, Volume or IPC',
  ]);
});

test('profile sample fields', () => {
  const text = JSON.stringify({
    version: 1,
    overheads: { pod_start_s: 0, container_start_s: 0 },
    tasks: {
      a: { samples: [{ machine_type: '', vcpus: 0, accelerator: { name: 't4' }, wall_s: [], where: 'cloud' }] },
      b: { samples: [sample], gpu_speedup: { 'nvidia-tesla-t4': 0 } },
      c: {},
    },
  });
  assert.equal(problemsOf(text), [
    'p.json: tasks.a.samples[0].machine_type: must be a machine type name such as "n1-standard-1", or "local"',
    'p.json: tasks.a.samples[0].vcpus: must be a positive number of cores, but is 0',
    'p.json: tasks.a.samples[0].accelerator: must be null or {"name": "nvidia-tesla-t4", "count": 1}',
    'p.json: tasks.a.samples[0].wall_s: must be a non-empty list of seconds, each at least 0, but is []',
    'p.json: tasks.a.samples[0].where: must be "cluster", "local", "paper" or "manual", but is "cloud"',
    'p.json: tasks.b.gpu_speedup.nvidia-tesla-t4: must be a positive factor, but is 0',
    'p.json: tasks.c: must be an object with a "samples" list',
  ]);
});

test.run();
