import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MmaerecError } from '../../src/errors.js';
import { DEFAULT_CALIB_LIMIT, DEFAULT_WORKSPACE_MIB, parseBuildEngineOptions } from '../../src/engine/options.js';

const configError = (fn: () => unknown, message: RegExp) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MmaerecError);
    expect((err as MmaerecError).code).toBe('E_CONFIG');
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected an E_CONFIG error');
};

describe('build-engine options', () => {
  it('defaults: fp32, 1024 MiB workspace, plan in the bundle, metadata beside it', () => {
    const o = parseBuildEngineOptions({ model: 'bundles/a' });
    expect(o).toEqual({
      modelDir: resolve('bundles/a'),
      planPath: resolve('bundles/a/engine.plan'),
      metadataPath: resolve('bundles/a/engine.plan.json'),
      precision: 'fp32',
      fp16: false,
      int8: false,
      calibLimit: DEFAULT_CALIB_LIMIT,
      workspaceMiB: DEFAULT_WORKSPACE_MIB,
      workspaceBytes: DEFAULT_WORKSPACE_MIB * 1024 * 1024,
      device: 0,
      maxBatch: 1,
    });
  });

  it('parses CLI strings and labels the precision', () => {
    const o = parseBuildEngineOptions({ model: 'm', fp16: true, workspace: '256', out: 'x/e.plan', device: '1' });
    expect([o.precision, o.workspaceBytes, o.planPath, o.metadataPath, o.device]).toEqual(['fp16', 256 << 20, resolve('x/e.plan'), resolve('x/e.plan.json'), 1]);
    const q = parseBuildEngineOptions({ model: 'm', int8: true, calib: 'good', calibLimit: '64' });
    expect([q.precision, q.calibDir, q.calibLimit]).toEqual(['int8', resolve('good'), 64]);
    expect(parseBuildEngineOptions({ model: 'm', int8: true, fp16: true, calib: 'g' }).precision).toBe('int8+fp16');
    expect(parseBuildEngineOptions({ model: 'm', maxBatch: '4' }).maxBatch).toBe(4);
  });

  it('refuses flag combinations TensorRT cannot honour', () => {
    configError(() => parseBuildEngineOptions({ model: 'm', int8: true }), /--int8 needs calibration images: add --calib <dir/);
    configError(() => parseBuildEngineOptions({ model: 'm', calib: 'g' }), /--calib is only used for INT8 calibration: add --int8/);
  });

  it('refuses bad values with the option named', () => {
    configError(() => parseBuildEngineOptions({ model: 'm', workspace: '12' }), /workspace: --workspace must be at least 16/);
    configError(() => parseBuildEngineOptions({ model: 'm', workspace: 'lots' }), /workspace: --workspace must be a whole number/);
    configError(() => parseBuildEngineOptions({ model: 'm', workspace: 1.5 }), /--workspace must be a whole number/);
    configError(() => parseBuildEngineOptions({ model: 'm', calibLimit: '0' }), /--calib-limit must be at least 1/);
    configError(() => parseBuildEngineOptions({ model: 'm', maxBatch: '0' }), /maxBatch: --max-batch must be at least 1/);
    configError(() => parseBuildEngineOptions({ model: 'm', maxBatch: '65' }), /maxBatch: --max-batch must be at most 64/);
    configError(() => parseBuildEngineOptions({ model: 'm', maxBatch: 'four' }), /--max-batch must be a whole number/);
    configError(() => parseBuildEngineOptions({ model: '' }), /--model <bundle dir> is required/);
    configError(() => parseBuildEngineOptions({}), /model: /);
    configError(() => parseBuildEngineOptions({ model: 'm', out: 'e.plan.json' }), /ends in \.json, which is the metadata file's name/);
  });

  it('names a misspelled option and suggests the right one', () => {
    configError(() => parseBuildEngineOptions({ model: 'm', calib_limit: 3 }), /unknown build-engine option "calib_limit": did you mean "calibLimit"\?/);
    configError(() => parseBuildEngineOptions({ model: 'm', max_batch: 3 }), /unknown build-engine option "max_batch": did you mean "maxBatch"\?/);
    configError(() => parseBuildEngineOptions({ model: 'm', precision: 'fp16' }), /unknown build-engine option "precision": use one of model, fp16/);
  });
});
