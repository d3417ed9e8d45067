/**
 * The tfjs executor: walks the network graph (network.ts) with tfjs ops, for training and for checking the
 * ONNX export. tfjs is never imported at module top level: callers pass the `tf` namespace (the trainer's
 * back-end choice) or use `loadTfjs`. Tensors are NHWC (tfjs's native layout); weights are held as tfjs
 * variables in tfjs layouts (conv HWIO) and converted to and from the PyTorch layouts of weights.safetensors.
 */
import type * as TF from '@tensorflow/tfjs-core';
import { MmaerecError } from '../errors.js';
import { parseModelConfig, type ModelConfig } from './config.js';
import type { GraphNode, NetworkGraph } from './graph.js';
import { checkWeights, type WeightMap } from './init.js';
import { buildNetwork } from './network.js';

export type Tf = typeof TF;

/**
 * Imports tfjs-core and the named pure back end ('cpu' or 'wasm') and makes it current. Also imports the
 * `@tensorflow/tfjs` bundle, which registers the gradient functions (tfjs-core ships them only as sources
 * Node cannot load). Training code with its own back-end choice (src/train/backend.ts) passes its `tf` instead.
 */
export async function loadTfjs(backend: 'cpu' | 'wasm' = 'cpu'): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs');
  if (backend === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  else await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend(backend))) throw new MmaerecError('E_UNSUPPORTED', `tfjs back end "${backend}" failed to initialise: use "cpu"`);
  await tf.ready();
  return tf;
}

export interface ForwardOptions {
  /** Training mode: BatchNorm of the trainable parts uses batch statistics and updates its running statistics. */
  training: boolean;
  /**
   * Also use (and update) batch statistics in the backbone's BatchNorm. Defaults to `backbone.trainable`.
   * With a frozen random backbone this re-estimates its running statistics on the training images.
   */
  backboneBatchStats?: boolean;
  /** Running-statistics update: PyTorch momentum (default 0.1), or 'cumulative' (a plain average over updates, for re-estimation). */
  momentum?: number | 'cumulative';
  /** Set false to use batch statistics without touching the running statistics. */
  updateRunningStats?: boolean;
  /** Also return the four backbone levels (`ForwardResult.features`), e.g. to check an imported backbone. */
  features?: boolean;
  /**
   * With a feature bank in the config: also run its head and return the patch features and/or their distance
   * map (`ForwardResult.featureBank`). Off (the default) skips the head: training never needs it.
   */
  featureBank?: 'distance' | 'patches' | 'both';
}

export interface ForwardResult {
  /** [B,H,W,3] reconstruction (RGB in [0,1] scale, no final activation). */
  recon: TF.Tensor4D;
  /** Memory addressing weights ŵ per level with a memory, [B,h,w,N] (for the entropy loss, eq. 5). */
  addressing: { level: number; weights: TF.Tensor4D }[];
  /** With `features: true`: the backbone levels, [B,h,w,C] each. */
  features?: TF.Tensor4D[];
  /** With `featureBank` set: the patch features [B,h,w,C] and/or the nearest-normal distance map [B,h,w,1]. */
  featureBank?: { patches?: TF.Tensor4D; distance?: TF.Tensor4D };
}

const OIHW_TO_HWIO = [2, 3, 1, 0];
const HWIO_TO_OIHW = [3, 2, 0, 1];

/** A trainable instance of the network on tfjs. */
export class TfjsNetwork {
  readonly config: ModelConfig;
  readonly graph: NetworkGraph;
  /** Variables by parameter name (conv weights in HWIO layout). */
  readonly variables = new Map<string, TF.Variable>();
  private readonly updates = new Map<string, number>();
  private readonly tf: Tf;

  constructor(tf: Tf, config: ModelConfig, weights: WeightMap) {
    this.tf = tf;
    this.config = parseModelConfig(config);
    this.graph = buildNetwork(this.config);
    const problems = checkWeights(this.graph, weights);
    if (problems.length) throw new MmaerecError('E_MODEL', `weights do not fit the network: ${problems[0]} (${problems.length} problem(s)): use weights made for this config`);
    for (const p of this.graph.params) {
      const w = weights.get(p.name)!;
      const value = tf.tidy(() => {
        const t = tf.tensor(w.data, w.shape);
        return p.shape.length === 4 ? tf.transpose(t, OIHW_TO_HWIO) : t;
      });
      this.variables.set(p.name, tf.variable(value, p.trainable));
      value.dispose();
    }
  }

  /** The variables that receive gradients (frozen backbone and running statistics excluded). */
  trainableVariables(): TF.Variable[] {
    return this.graph.params.filter((p) => p.trainable).map((p) => this.variables.get(p.name)!);
  }

  /** Current weights in the PyTorch layouts of weights.safetensors. */
  exportWeights(): WeightMap {
    const out: WeightMap = new Map();
    for (const p of this.graph.params) {
      const v = this.variables.get(p.name)!;
      const data = this.tf.tidy(() => (p.shape.length === 4 ? this.tf.transpose(v, HWIO_TO_OIHW) : v.clone())).dataSync() as Float32Array;
      out.set(p.name, { shape: [...p.shape], data: Float32Array.from(data) });
    }
    return out;
  }

  /** Resets running statistics (mean 0, variance 1) of the backbone's or every BatchNorm, e.g. before re-estimation. */
  resetRunningStats(which: 'backbone' | 'all'): void {
    for (const node of this.graph.nodes) {
      if (node.spec.op !== 'batchNorm' || (which === 'backbone' && !node.spec.backbone)) continue;
      const { prefix, channels } = node.spec;
      this.variables.get(`${prefix}.running_mean`)!.assign(this.tf.zeros([channels]));
      this.variables.get(`${prefix}.running_var`)!.assign(this.tf.ones([channels]));
      this.updates.delete(prefix);
    }
  }

  /**
   * Runs the network on [B,H,W,3] RGB in [0,1] and [B,H,W,1] edge maps. Safe inside `tf.variableGrads` /
   * `optimizer.minimize`; only the returned tensors survive, and the caller disposes them.
   */
  forward(image: TF.Tensor4D, edge: TF.Tensor4D, options: ForwardOptions): ForwardResult {
    const tf = this.tf;
    const s = this.config.inputSize;
    if (image.shape[1] !== s || image.shape[2] !== s || image.shape[3] !== 3 || edge.shape[1] !== s || edge.shape[2] !== s || edge.shape[3] !== 1) {
      throw new RangeError(`Expected image [B,${s},${s},3] and edge [B,${s},${s},1] but received [${image.shape}] and [${edge.shape}]`);
    }
    // tidy: intermediates are freed even when the caller forgets to (gradients still work: the engine keeps
    // what backprop needs while a tape is recording).
    return tf.tidy(() => {
      const values = new Map<string, TF.Tensor>([
        [this.graph.inputs.image, image],
        [this.graph.inputs.edge, edge],
      ]);
      const backboneStats = options.backboneBatchStats ?? this.config.backbone.trainable;
      const bank = this.graph.outputs.featureBank;
      const wanted = options.featureBank;
      for (const node of this.graph.nodes) {
        if (node.name.startsWith('featureBank') && (!wanted || (wanted === 'patches' && node.spec.op === 'nearestNormal'))) continue;
        const outs = this.run(node, node.inputs.map((i) => values.get(i)!), options, backboneStats);
        node.outputs.forEach((name, i) => values.set(name, outs[i]!));
      }
      return {
        recon: values.get(this.graph.outputs.recon) as TF.Tensor4D,
        addressing: this.graph.outputs.addressing.map((a) => ({ level: a.level, weights: values.get(a.value) as TF.Tensor4D })),
        ...(options.features ? { features: this.graph.outputs.features.map((f) => values.get(f) as TF.Tensor4D) } : {}),
        ...(bank && wanted
          ? {
              featureBank: {
                ...(wanted !== 'distance' ? { patches: values.get(bank.patches) as TF.Tensor4D } : {}),
                ...(wanted !== 'patches' ? { distance: values.get(bank.distance) as TF.Tensor4D } : {}),
              },
            }
          : {}),
      };
    });
  }

  private run(node: GraphNode, inputs: TF.Tensor[], o: ForwardOptions, backboneStats: boolean): TF.Tensor[] {
    const tf = this.tf;
    const x = inputs[0] as TF.Tensor4D;
    const s = node.spec;
    const v = (name: string): TF.Variable => this.variables.get(name)!;
    switch (s.op) {
      case 'normalize':
        return [tf.div(tf.sub(x, tf.tensor1d(s.mean)), tf.tensor1d(s.std))];
      case 'conv': {
        const [t, l, b, r] = s.pads ?? [s.pad, s.pad, s.pad, s.pad];
        const pad: 'valid' | [[number, number], [number, number], [number, number], [number, number]] =
          t === 0 && l === 0 && b === 0 && r === 0 ? 'valid' : [[0, 0], [t, b], [l, r], [0, 0]];
        const groups = s.groups ?? 1;
        let y: TF.Tensor4D;
        if (groups === 1) {
          y = tf.conv2d(x, v(s.weight) as TF.Tensor4D, s.stride, pad);
        } else if (groups === s.inChannels) {
          // Depthwise: the HWIO variable [k,k,1,C·m] is tfjs's depthwise filter [k,k,C,m] in the same memory
          // order (PyTorch output channel c·m + j = input channel c, multiplier j).
          const filter = tf.reshape(v(s.weight), [s.kernel, s.kernel, s.inChannels, s.outChannels / s.inChannels]) as TF.Tensor4D;
          y = tf.depthwiseConv2d(x, filter, s.stride, pad);
        } else {
          throw new MmaerecError('E_UNSUPPORTED', `${node.name}: grouped convolution with ${groups} groups of ${s.inChannels} channels: only dense and depthwise convolutions run on tfjs`);
        }
        return [s.bias ? tf.add(y, v(s.bias)) : y];
      }
      case 'batchNorm': {
        const p = s.prefix;
        const useBatch = o.training && (!s.backbone || backboneStats);
        if (!useBatch) {
          return [tf.batchNorm(x, v(`${p}.running_mean`), v(`${p}.running_var`), v(`${p}.bias`), v(`${p}.weight`), s.epsilon)];
        }
        const { mean, variance } = tf.moments(x, [0, 1, 2]);
        if (o.updateRunningStats !== false) this.updateStats(p, mean, variance, x.size / s.channels, o.momentum ?? 0.1);
        return [tf.batchNorm(x, mean, variance, v(`${p}.bias`), v(`${p}.weight`), s.epsilon)];
      }
      case 'relu':
        return [tf.relu(x)];
      case 'clip':
        return [tf.clipByValue(x, s.min, s.max)];
      case 'sigmoid':
        return [tf.sigmoid(x)];
      case 'hardSwish':
        return [tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6)];
      case 'maxPool3s2':
        return [tf.maxPool(x, 3, 2, [[0, 0], [1, 1], [1, 1], [0, 0]])];
      case 'add':
        return [tf.add(x, inputs[1]!)];
      case 'mul':
        return [tf.mul(x, inputs[1]!)];
      case 'upsample2x':
        // halfPixelCenters = ONNX Resize coordinate_transformation_mode "half_pixel" (docs/architecture.md).
        return [tf.image.resizeBilinear(x, [2 * x.shape[1], 2 * x.shape[2]], false, true)];
      case 'memory':
        return this.memory(x, v(s.weight) as unknown as TF.Tensor2D, s.lambda, s.epsilon);
      case 'coordPool': {
        const [b, , w, c] = x.shape;
        const xh = tf.mean(x, 2, true); // [B,H,1,C]: pooled over W
        const xw = tf.reshape(tf.mean(x, 1, true), [b, w, 1, c]); // [B,1,W,C] → [B,W,1,C]
        return [tf.concat([xh, xw], 1)];
      }
      case 'coordSplit': {
        const [b, , , c] = x.shape;
        const yh = tf.slice(x, [0, 0, 0, 0], [b, s.height, 1, c]);
        const yw = tf.reshape(tf.slice(x, [0, s.height, 0, 0], [b, s.width, 1, c]), [b, 1, s.width, c]);
        return [yh, yw];
      }
      case 'globalAvgPool':
        return [tf.mean(x, [1, 2], true)];
      case 'globalMaxPool':
        return [tf.max(x, [1, 2], true)];
      case 'channelMean':
        return [tf.mean(x, 3, true)];
      case 'channelMax':
        return [tf.max(x, 3, true)];
      case 'concatChannels':
        return [tf.concat(inputs as TF.Tensor4D[], 3)];
      case 'avgPool3':
        // 'same' padding: TF (and tfjs) leave the padding out of the count, as ONNX count_include_pad = 0.
        return [tf.avgPool(x, 3, 1, 'same')];
      case 'nearestNormal':
        return [this.nearestNormal(x, v(s.bank) as unknown as TF.Tensor2D)];
    }
  }

  /** ‖f − b*‖₂ per position, b* the nearest bank row: ‖f‖² − 2f·b + ‖b‖², minimised over the bank, clamped at 0. */
  private nearestNormal(x: TF.Tensor4D, bank: TF.Tensor2D): TF.Tensor4D {
    const tf = this.tf;
    const [b, h, w, c] = x.shape;
    const f = tf.reshape(x, [b * h * w, c]) as TF.Tensor2D;
    const cross = tf.matMul(f, bank, false, true);
    const d2 = tf.add(tf.sub(tf.sum(tf.square(bank), 1), tf.mul(cross, 2)), tf.sum(tf.square(f), 1, true));
    return tf.reshape(tf.sqrt(tf.relu(tf.min(d2, 1))), [b, h, w, 1]);
  }

  /** MeAM (method.md §3): cosine softmax addressing, hard shrinkage, L1 renormalisation, read-out ŵM. */
  private memory(x: TF.Tensor4D, m: TF.Tensor2D, lambda: number, eps: number): TF.Tensor[] {
    const tf = this.tf;
    const [b, h, w, c] = x.shape;
    const n = m.shape[0];
    const l2n = (t: TF.Tensor2D): TF.Tensor2D => tf.div(t, tf.maximum(tf.sqrt(tf.sum(tf.square(t), 1, true)), eps));
    const q = tf.reshape(x, [b * h * w, c]) as TF.Tensor2D;
    const logits = tf.matMul(l2n(q), l2n(m), false, true);
    const weights = tf.softmax(logits);
    const shifted = tf.sub(weights, lambda);
    const shrunk = tf.div(tf.mul(tf.relu(shifted), weights), tf.add(tf.abs(shifted), eps));
    const renorm = tf.div(shrunk, tf.maximum(tf.sum(shrunk, 1, true), eps)) as TF.Tensor2D;
    const read = tf.matMul(renorm, m);
    return [tf.reshape(read, [b, h, w, c]), tf.reshape(renorm, [b, h, w, n])];
  }

  private updateStats(prefix: string, mean: TF.Tensor, variance: TF.Tensor, count: number, momentum: number | 'cumulative'): void {
    const tf = this.tf;
    const k = (this.updates.get(prefix) ?? 0) + 1;
    this.updates.set(prefix, k);
    const m = momentum === 'cumulative' ? 1 / k : momentum;
    const rm = this.variables.get(`${prefix}.running_mean`)!;
    const rv = this.variables.get(`${prefix}.running_var`)!;
    // PyTorch semantics: the running variance takes the unbiased batch variance. The update ops are not on
    // the loss's path, so a gradient tape around forward() ignores them.
    const unbiased = count > 1 ? count / (count - 1) : 1;
    tf.tidy(() => {
      rm.assign(tf.add(tf.mul(rm, 1 - m), tf.mul(mean, m)));
      rv.assign(tf.add(tf.mul(rv, 1 - m), tf.mul(variance, m * unbiased)));
    });
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}
