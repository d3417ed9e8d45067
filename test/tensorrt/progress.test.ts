import { describe, expect, it } from 'vitest';
import { BuildProgress } from '../../src/engine/progress.js';

describe('build progress line', () => {
  it('follows nested TensorRT phases with step counts and elapsed time', () => {
    const p = new BuildProgress(0);
    expect(p.line(0)).toBe('[00:00] building engine (parsing the ONNX model)');
    p.update({ kind: 'stage', stage: 'building' });
    p.update({ kind: 'phase-start', phase: 'Building engine', parent: '', step: 0, steps: 3 });
    p.update({ kind: 'phase-start', phase: 'Tactic selection', parent: 'Building engine', step: 0, steps: 57 });
    expect(p.update({ kind: 'step', phase: 'Tactic selection', parent: '', step: 12, steps: 0 })).toBe(true);
    expect(p.line(83_000)).toBe('[01:23] building engine › Building engine 0/3 › Tactic selection 12/57');
    p.update({ kind: 'phase-finish', phase: 'Tactic selection', parent: '', step: 0, steps: 0 });
    p.update({ kind: 'step', phase: 'Building engine', parent: '', step: 1, steps: 0 });
    expect(p.line(600_000)).toBe('[10:00] building engine › Building engine 1/3');
  });

  it('a finished outer phase closes its unfinished children; unknown steps change nothing', () => {
    const p = new BuildProgress(0);
    p.update({ kind: 'phase-start', phase: 'A', parent: '', step: 0, steps: 0 });
    p.update({ kind: 'phase-start', phase: 'B', parent: 'A', step: 0, steps: 4 });
    expect(p.update({ kind: 'step', phase: 'Z', parent: '', step: 1, steps: 0 })).toBe(false);
    p.update({ kind: 'phase-finish', phase: 'A', parent: '', step: 0, steps: 0 });
    expect(p.line(1000)).toBe('[00:01] building engine (parsing the ONNX model)');
  });

  it('shows calibration preprocessing and collects warnings without redrawing', () => {
    const p = new BuildProgress(0);
    p.update({ kind: 'stage', stage: 'calibration-images' });
    p.update({ kind: 'calibration-image', done: 40, total: 500 });
    expect(p.line(5000)).toBe('[00:05] preprocessing calibration images 40/500');
    expect(p.update({ kind: 'warning', phase: 'Detected layernorm in FP16', parent: '', step: 0, steps: 0 })).toBe(false);
    expect(p.warnings).toEqual(['Detected layernorm in FP16']);
    p.update({ kind: 'stage', stage: 'hashing' });
    expect(p.line(6000)).toBe('[00:06] hashing the plan and writing metadata');
  });
});
