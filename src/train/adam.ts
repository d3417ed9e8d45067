/**
 * Adam (Kingma & Ba; PyTorch's update: p −= lr·m̂/(√v̂ + ε)) with its moments keyed by variable name, so that
 * a checkpoint stores and restores them by name rather than by tfjs's internal variable order.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FloatTensor } from '../model/safetensors.js';

export class Adam {
  readonly m = new Map<string, tf.Variable>();
  readonly v = new Map<string, tf.Variable>();
  /** Updates applied so far (bias correction uses iterations + 1 for the next one). */
  iterations = 0;

  constructor(
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {}

  /** Applies one update to `variables` from `grads` (same names); disposes nothing of the caller's. */
  apply(variables: Map<string, tf.Variable>, grads: tf.NamedTensorMap, lr: number): void {
    const t = this.iterations + 1;
    const c1 = 1 - this.beta1 ** t;
    const c2 = 1 - this.beta2 ** t;
    tf.tidy(() => {
      for (const [name, variable] of variables) {
        const g = grads[name];
        if (!g) continue;
        let m = this.m.get(name);
        let v = this.v.get(name);
        if (!m || !v) {
          m = tf.variable(tf.zerosLike(variable), false);
          v = tf.variable(tf.zerosLike(variable), false);
          this.m.set(name, m);
          this.v.set(name, v);
        }
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const step = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.epsilon));
        variable.assign(tf.sub(variable, tf.mul(step, lr)));
      }
    });
    this.iterations = t;
  }

  /** Moments as "m:<name>" / "v:<name>" tensors for a checkpoint. */
  async save(): Promise<Map<string, FloatTensor>> {
    const out = new Map<string, FloatTensor>();
    for (const [prefix, map] of [['m', this.m], ['v', this.v]] as const) {
      for (const [name, variable] of map) out.set(`${prefix}:${name}`, { shape: variable.shape, data: (await variable.data()) as Float32Array });
    }
    return out;
  }

  restore(moments: Map<string, FloatTensor>, iterations: number): void {
    this.dispose();
    for (const [key, t] of moments) {
      const [prefix, ...rest] = key.split(':');
      const name = rest.join(':');
      const variable = tf.variable(tf.tensor(t.data, t.shape), false);
      (prefix === 'm' ? this.m : this.v).set(name, variable);
    }
    this.iterations = iterations;
  }

  dispose(): void {
    for (const v of [...this.m.values(), ...this.v.values()]) v.dispose();
    this.m.clear();
    this.v.clear();
  }
}
