/**
 * Turns TensorRT's builder progress (IProgressMonitor phases/steps, relayed by the addon) into one status line.
 * Engine builds take minutes on a Jetson, mostly in tactic selection; the line shows the innermost phase with its
 * step count and the elapsed time, so the user can see it is alive. Pure state + formatting; the CLI draws it.
 */

/** One event as the addon delivers it (native/glue/tensorrt.cc). */
export interface NativeBuildEvent {
  kind: 'phase-start' | 'step' | 'phase-finish' | 'warning';
  phase: string;
  parent: string;
  step: number;
  steps: number;
}

/** Progress of the whole build-engine run: our own stages plus TensorRT's phases. */
export type BuildProgressEvent =
  | { kind: 'stage'; stage: 'calibration-images' | 'building' | 'hashing' | 'done'; detail?: string }
  | { kind: 'calibration-image'; done: number; total: number }
  | NativeBuildEvent;

interface Phase {
  name: string;
  step: number;
  steps: number;
}

export class BuildProgress {
  private readonly phases: Phase[] = [];
  private stage = 'starting';
  private calib: { done: number; total: number } | undefined;
  readonly warnings: string[] = [];

  constructor(private readonly startedAt = Date.now()) {}

  /** Applies one event; returns true when the visible line may have changed. */
  update(event: BuildProgressEvent): boolean {
    switch (event.kind) {
      case 'stage':
        this.stage = event.stage;
        return true;
      case 'calibration-image':
        this.calib = { done: event.done, total: event.total };
        return true;
      case 'phase-start':
        this.phases.push({ name: event.phase, step: 0, steps: event.steps });
        return true;
      case 'step': {
        const phase = this.find(event.phase);
        if (!phase) return false;
        phase.step = event.step;
        return true;
      }
      case 'phase-finish': {
        const i = this.phases.findIndex((p) => p.name === event.phase);
        if (i >= 0) this.phases.splice(i); // a finished phase ends its children too
        return true;
      }
      case 'warning':
        this.warnings.push(event.phase);
        return false;
    }
  }

  private find(name: string): Phase | undefined {
    for (let i = this.phases.length - 1; i >= 0; i--) if (this.phases[i]!.name === name) return this.phases[i];
    return undefined;
  }

  /** e.g. "[01:23] building engine › Building engine 1/3 › Tactic selection 12/57" */
  line(now = Date.now()): string {
    const s = Math.max(0, Math.floor((now - this.startedAt) / 1000));
    const clock = `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}]`;
    if (this.stage === 'calibration-images') {
      return `${clock} preprocessing calibration images${this.calib ? ` ${this.calib.done}/${this.calib.total}` : ''}`;
    }
    if (this.stage === 'hashing') return `${clock} hashing the plan and writing metadata`;
    if (this.stage === 'done') return `${clock} done`;
    const detail = this.phases.map((p) => (p.steps > 0 ? `${p.name} ${p.step}/${p.steps}` : p.name)).join(' › ');
    return `${clock} building engine${detail ? ` › ${detail}` : ' (parsing the ONNX model)'}`;
  }
}
