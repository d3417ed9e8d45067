/**
 * Learning-rate schedule (method.md §5): the initial rate times `factor` for every milestone passed; the paper
 * uses ×0.2 at 50 % and 80 % of training (epochs 300 and 480 of 600). Milestones are whole steps, so a resumed
 * run is on the same rate as the uninterrupted one.
 */
export interface Schedule {
  lr: number;
  factor: number;
  /** Fractions of the total steps. */
  milestones: number[];
}

export function milestoneSteps(s: Schedule, totalSteps: number): number[] {
  return s.milestones.map((m) => Math.floor(m * totalSteps));
}

/** Learning rate for the (0-based) step. */
export function learningRate(s: Schedule, step: number, totalSteps: number): number {
  const passed = milestoneSteps(s, totalSteps).filter((m) => step >= m).length;
  return s.lr * s.factor ** passed;
}
