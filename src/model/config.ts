import { z } from 'zod';
import { MmaerecError } from '../errors.js';

/**
 * The network configuration (method.md §2–4, docs/architecture.md "Model"). One schema drives the graph
 * builder, and through it the tfjs executor, the ONNX writer, parameter and GMAC counting.
 */
/** torchvision ResNets (weights: a torchvision state dict, `import-backbone --format torchvision`). */
export const RESNET_ARCHS = ['wide_resnet50_2', 'resnet18'] as const;
export type ResnetArch = (typeof RESNET_ARCHS)[number];
/**
 * Every backbone: the ResNets, and Keras MobileNetV2 (α = 1; weights from a TensorFlow.js layers model such as
 * nsfwjs's, `import-backbone --format tfjs-layers`), tapped at four named layers.
 */
export const BACKBONE_ARCHS = [...RESNET_ARCHS, 'mobilenet_v2'] as const;
export type BackboneArch = (typeof BACKBONE_ARCHS)[number];
/** Keras layer names tapped for the four levels (strides 2/4/8/16) when `backbone.taps` is not given. */
export const DEFAULT_TAPS: Record<'mobilenet_v2', [string, string, string, string]> = {
  mobilenet_v2: ['Conv1_relu', 'block_2_add', 'block_5_add', 'block_12_add'],
};
export const ATTENTIONS = ['ca', 'se', 'cbam', 'none'] as const;
export type AttentionKind = (typeof ATTENTIONS)[number];

export const backboneConfigSchema = z.strictObject({
  arch: z.enum(BACKBONE_ARCHS).describe('backbone network: Wide-ResNet50-2 (paper), ResNet-18 (lite), or MobileNetV2 (weights from a TensorFlow.js model)'),
  /**
   * Divides every backbone width (stem and block planes). 1 = torchvision's network, the only value whose
   * tensors match ImageNet checkpoints; larger values exist for fast tests of the full topology.
   */
  widthDivisor: z.number().int().min(1).max(64).default(1)
    .describe("divides every backbone width; 1 = torchvision's network, the only value that takes ImageNet weights (larger: fast tests of the topology)"),
  /** false (paper, §5): frozen, BatchNorm in inference mode. true: trained with everything else. */
  trainable: z.boolean().default(false).describe('false (paper): frozen, BatchNorm in inference mode; true: trained with the rest of the network'),
  /**
   * mobilenet_v2 only: the layers whose outputs are the four levels (strides 2, 4, 8, 16), by Keras layer name;
   * absent = DEFAULT_TAPS. The backbone is built up to the deepest tap. The ResNets' levels are fixed
   * (stem, layer1, layer2, layer3) and take no taps; absent in every ResNet config (old bundles unchanged).
   */
  taps: z.tuple([z.string().min(1), z.string().min(1), z.string().min(1), z.string().min(1)]).optional()
    .describe('mobilenet_v2 only: the Keras layers whose outputs are the four levels (strides 2, 4, 8, 16); default Conv1_relu, block_2_add, block_5_add, block_12_add'),
}).superRefine((b, ctx) => {
  if (b.arch === 'mobilenet_v2' && b.widthDivisor !== 1) {
    ctx.addIssue({ code: 'custom', path: ['widthDivisor'], message: 'mobilenet_v2 has no width divisor (its weights come from a model file): use 1' });
  }
  if (b.arch !== 'mobilenet_v2' && b.taps) {
    ctx.addIssue({ code: 'custom', path: ['taps'], message: `${b.arch} levels are fixed (stem, layer1, layer2, layer3): remove taps` });
  }
});

export const memoryConfigSchema = z.strictObject({
  items: z.number().int().min(2).max(4096).default(30).describe('memory items N per level (paper Fig. 8: 30 is best)'),
  shrink: z.number().min(0).max(3).default(1).describe('hard-shrink threshold λ = shrink / N; the paper allows λ ∈ [1/N, 3/N] (eq. 2)'),
  epsilon: z.number().positive().default(1e-12).describe('ε of the hard shrinkage (eq. 2) and of the L1 renormalisation'),
  levels: z.array(z.number().int().min(0).max(3)).default([0, 1, 2, 3])
    .describe('levels (0 = stride 2 … 3 = stride 16) that carry a memory module (paper Table 7: all four)'),
});

/**
 * A bank of normal patch features on the frozen backbone (docs/architecture.md, "Feature distance"): the
 * stride-8 and stride-16 levels, each position averaged over its 3×3 neighbourhood, the coarser one upsampled,
 * concatenated; at export the bank is filled with a coreset of these vectors from the training images, and the
 * network outputs each position's distance to its nearest bank item — a feature-level map fused with the
 * image-space map. Useful with a pretrained backbone only (random features do not tell normal from not).
 */
export const featureBankConfigSchema = z.strictObject({
  /** Bank size K (coreset of the training images' patch vectors). */
  // 4096 ≈ PatchCore's 10 % coreset of the 40 000 patch vectors the fill keeps (src/train/feature-bank.ts); 1024
  // left rare normal patches uncovered (magnetic tile, same weights: synthetic AUROC 0.852 → 0.879; BENCHMARKS.md)
  items: z.number().int().min(16).max(16384).default(4096)
    .describe('bank size: a greedy coreset of this many patch vectors from the training images'),
  levels: z.array(z.number().int().min(0).max(3)).min(1).max(4)
    .refine((v) => v.every((l, i) => i === 0 || l > v[i - 1]!), 'featureBank.levels must be increasing, without repeats (e.g. [2, 3])')
    .default([2, 3])
    .describe('backbone levels (0 = stride 2 … 3 = stride 16) whose patch features the bank compares, at the finest one\'s grid (PatchCore: the middle levels 2 and 3)'),
});

export const modelConfigSchema = z.strictObject({
  inputSize: z
    .number()
    .int()
    .min(32)
    .max(1024)
    .refine((v) => v % 16 === 0, 'inputSize must be a multiple of 16')
    .describe('square input side in pixels; a multiple of 16 (four stride-2 stages)'),
  backbone: backboneConfigSchema,
  levelChannels: z.tuple([
    z.number().int().min(1),
    z.number().int().min(1),
    z.number().int().min(1),
    z.number().int().min(1),
  ]).describe('edge-encoder (and fused-level) channels at strides 2/4/8/16 (paper: 128/256/512/1024)'),
  headChannels: z.number().int().min(1).describe("channels of the decoder's last block at full resolution, before the final conv3×3 → 3"),
  memory: memoryConfigSchema.default({ items: 30, shrink: 1, epsilon: 1e-12, levels: [0, 1, 2, 3] }),
  attention: z.enum(ATTENTIONS).default('ca')
    .describe('attention on the fused features: Coordinate Attention (paper), squeeze-excitation, CBAM, or none (ablations)'),
  /** Absent: no feature bank (the paper's network). */
  featureBank: featureBankConfigSchema.optional(),
  bnEpsilon: z.number().positive().default(1e-5).describe("BatchNorm ε (PyTorch's and torchvision's default)"),
});

export type ModelConfig = z.infer<typeof modelConfigSchema>;
export type ModelConfigInput = z.input<typeof modelConfigSchema>;

/** The paper's configuration: 256², Wide-ResNet50-2, levels 128/256/512/1024, N = 30, Coordinate Attention. */
const paper: ModelConfigInput = {
  inputSize: 256,
  backbone: { arch: 'wide_resnet50_2', widthDivisor: 1, trainable: false },
  levelChannels: [128, 256, 512, 1024],
  headChannels: 64,
  memory: { items: 30, shrink: 1, epsilon: 1e-12, levels: [0, 1, 2, 3] },
  attention: 'ca',
};

/** Trainable on a 2-core CPU: 128², ResNet-18 (levels 64/64/128/256 match its stages, no projection). */
const lite: ModelConfigInput = {
  inputSize: 128,
  backbone: { arch: 'resnet18', widthDivisor: 1, trainable: false },
  levelChannels: [64, 64, 128, 256],
  headChannels: 32,
  memory: { items: 30, shrink: 1, epsilon: 1e-12, levels: [0, 1, 2, 3] },
  attention: 'ca',
};

/**
 * The default recipe's network (issue 16 item 8): `lite` at half width — backbone widthDivisor 2 (a tapped
 * pretrained backbone keeps its own widths), levels 32/32/64/128, head 16 — a step of which takes ≈ 2.4 s at
 * batch 4 on one of the 2-core build machine's cores, so that the default 750 steps take half an hour of CPU training, the export after it included in the hour.
 */
const edge: ModelConfigInput = {
  ...lite,
  backbone: { arch: 'resnet18', widthDivisor: 2, trainable: false },
  levelChannels: [32, 32, 64, 128],
  headChannels: 16,
};

export const PRESETS = { paper, lite, edge } as const;
export type PresetName = keyof typeof PRESETS;

/** Validates a config object; the error names the offending field and the fix. */
export function parseModelConfig(value: unknown, source = 'model config'): ModelConfig {
  const result = modelConfigSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : '(root)';
    throw new MmaerecError('E_CONFIG', `${source}: ${where}: ${issue.message}: fix that field (see docs/architecture.md, "Model config")`);
  }
  return result.data;
}

/** A preset, optionally deep-merged with overrides (e.g. a config file with only `inputSize`). */
export function presetConfig(name: string, overrides: Record<string, unknown> = {}): ModelConfig {
  if (!(name in PRESETS)) {
    throw new MmaerecError('E_CONFIG', `unknown preset "${name}": use one of ${Object.keys(PRESETS).join(', ')}`);
  }
  return parseModelConfig(deepMerge(structuredClone(PRESETS[name as PresetName]) as Record<string, unknown>, overrides), `preset ${name}`);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(over)) {
    const current = base[key];
    if (value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)) {
      base[key] = deepMerge(current as Record<string, unknown>, value as Record<string, unknown>);
    } else {
      base[key] = value;
    }
  }
  return base;
}
