import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { scanImports } from '../../core/local-modules.ts';
import { pythonStdlibModules } from '../../core/python-stdlib.ts';

/** Scans `lines` as one Python file and returns `name` or `name?` (optional) for each import. */
function scan(lines: string[]): string[] {
  return scanImports(`${lines.join('\n')}\n`, 'pipeline.py').map((module) => (module.optional ? `${module.name}?` : module.name));
}

test('import forms give top-level names', () => {
  assert.equal(scan(['import a.b as c, d', 'import e.f.g', 'from h.i import (j, k as l)', 'from m import *']), ['a', 'd', 'e', 'h', 'm']);
});

test('relative imports are left out', () => {
  assert.equal(scan(['from . import a', 'from .b import c', 'from .. import d', 'from ...e import f', 'import g']), ['g']);
});

test('imports at any depth count', () => {
  assert.equal(
    scan([
      'def task_body():',
      '    import numpy',
      '    if True:',
      '        from pandas import DataFrame',
      'class Model:',
      '    def fit(self):',
      '        import torch',
    ]),
    ['numpy', 'pandas', 'torch'],
  );
});

test('guarded imports are optional', () => {
  assert.equal(
    scan([
      'try:',
      '    import ujson',
      'except ImportError:',
      '    ujson = None',
      'try:',
      '    import orjson',
      'except (ModuleNotFoundError, OSError) as error:',
      '    pass',
      'try:',
      '    import lxml',
      'except:',
      '    pass',
      'from typing import TYPE_CHECKING',
      'if TYPE_CHECKING:',
      '    import torch',
      'import typing',
      'if typing.TYPE_CHECKING:',
      '    import jax',
      'else:',
      '    import numpy',
    ]),
    ['ujson?', 'orjson?', 'lxml?', 'typing', 'torch?', 'typing', 'jax?', 'numpy'],
  );
});

test('other guards keep imports required', () => {
  assert.equal(
    scan([
      'try:',
      '    import scipy',
      'except ValueError:',
      '    pass',
      'try:',
      '    import h5py',
      'finally:',
      '    pass',
      'if DEBUG:',
      '    import rich',
    ]),
    ['scipy', 'h5py', 'rich'],
  );
});

test('stdlib list has Python 3.12 names', () => {
  for (const name of ['__future__', 'json', 'os', 'typing', 'tomllib', 'zoneinfo', '_thread']) {
    assert.ok(pythonStdlibModules.has(name), name);
  }
  for (const name of ['numpy', 'ptk', 'distutils', 'imp', 'setuptools']) {
    assert.not.ok(pythonStdlibModules.has(name), name);
  }
});

test.run();
