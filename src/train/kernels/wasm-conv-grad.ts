/**
 * Convolution gradient kernels for the tfjs wasm back end, built from its own fast (XNNPACK) forward
 * convolution. The stock wasm back end has no `Conv2DBackpropFilter` at all (conv nets cannot train) and a
 * naive-loop `Conv2DBackpropInput`; both gradients are convolutions themselves:
 *  - filter gradient: correlate the batch-transposed input [Ci,H,W,B] with the batch-transposed output
 *    gradient [OH,OW,B,Co] used as a filter dilated by the forward stride → [Ci,KH,KW,Co] → [KH,KW,Ci,Co];
 *  - input gradient: convolve the output gradient (zero-dilated by the stride) with the spatially flipped,
 *    in/out-transposed filter [KH,KW,Co,Ci], padded so the result has the input's size.
 * Supported: NHWC, any stride, 'same' / 'valid' / explicit / numeric padding, dilation 1 (what tfjs allows
 * for strided convolutions). Anything else falls back to the original kernel (input) or throws (filter).
 */
import {
  backend_util,
  getKernel,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

type Backend = { disposeData(dataId: object): boolean };
type Pads = [[number, number], [number, number], [number, number], [number, number]];

function kernel(name: string): KernelFunc {
  const k = getKernel(name, 'wasm');
  if (!k) throw new Error(`tfjs wasm back end lacks the '${name}' kernel needed by the conv gradients`);
  return k.kernelFunc;
}

/** Runs one wasm kernel and returns its single output. */
function run(name: string, backend: Backend, inputs: Record<string, TensorInfo>, attrs: object): TensorInfo {
  return kernel(name)({ inputs, backend: backend as never, attrs: attrs as never }) as TensorInfo;
}

function dispose(backend: Backend, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

function conv(backend: Backend, x: TensorInfo, filter: TensorInfo, dilations: [number, number], pad: Pads): TensorInfo {
  return run('Conv2D', backend, { x, filter }, {
    strides: [1, 1],
    pad,
    dataFormat: 'NHWC',
    dilations,
    dimRoundingMode: undefined,
  });
}

interface GradAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | Pads;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function convInfo(xShape: number[], filterShape: number[], attrs: GradAttrs): backend_util.Conv2DInfo {
  if (attrs.dataFormat === 'NCHW') throw new Error('wasm conv gradients support NHWC only');
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad as never,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** dW = conv(xᵀ, dyᵀ) with the forward stride as dilation; rows/cols the forward pass never read are cropped. */
function conv2DBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: Backend; attrs: GradAttrs & { filterShape: number[] } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const info = convInfo(x.shape, attrs.filterShape, attrs);
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const [b, h, w, ci] = x.shape as [number, number, number, number];
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Padding below/right that makes the correlation's output exactly KH×KW; negative means the forward
  // pass never read the last input rows (valid padding with a stride), so crop them instead.
  const bottom = kh + (oh - 1) * sh - h - top;
  const right = kw + (ow - 1) * sw - w - left;
  let xs = x;
  if (bottom < 0 || right < 0) {
    xs = run('Slice', backend, { x }, { begin: [0, 0, 0, 0], size: [b, h + Math.min(bottom, 0), w + Math.min(right, 0), ci] });
  }
  const xT = run('Transpose', backend, { x: xs }, { perm: [3, 1, 2, 0] }); // [Ci,H,W,B]
  const dyT = run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] }); // [OH,OW,B,Co]
  const pads: Pads = [[0, 0], [top, Math.max(bottom, 0)], [left, Math.max(right, 0)], [0, 0]];
  const g = conv(backend, xT, dyT, [sh, sw], pads); // [Ci,KH,KW,Co]
  const out = run('Transpose', backend, { x: g }, { perm: [1, 2, 0, 3] });
  dispose(backend, xT, dyT, g);
  if (xs !== x) dispose(backend, xs);
  return out;
}

/** Inserts stride−1 zeros between output-gradient pixels: [B,OH,OW,C] → [B,OH·sh,OW·sw,C] (trailing zeros kept). */
function zeroDilate(backend: Backend, dy: TensorInfo, sh: number, sw: number): TensorInfo {
  const [b, oh, ow, c] = dy.shape as [number, number, number, number];
  const r = run('Reshape', backend, { x: dy }, { shape: [b, oh, 1, ow, 1, c] });
  const p = run('PadV2', backend, { x: r }, {
    paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]],
    constantValue: 0,
  });
  const out = run('Reshape', backend, { x: p }, { shape: [b, oh * sh, ow * sw, c] });
  dispose(backend, r, p);
  return out;
}

let originalBackpropInput: KernelFunc | undefined;

/** dX = conv(dilate(dy), flip(W)ᵀ) with padding that restores the input size. */
function conv2DBackpropInput(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: Backend; attrs: GradAttrs & { inputShape: number[] } }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const info = convInfo(attrs.inputShape, filter.shape, attrs);
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w } = info;
  const [, oh, ow] = dy.shape as [number, number, number, number];
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  const bottom = h - oh * sh + kh - 1 - top;
  const right = w - ow * sw + kw - 1 - left;
  if (top < 0 || left < 0 || bottom < -(sh - 1) || right < -(sw - 1)) {
    // A padding larger than the filter: not produced by 'same'/'valid'; keep the stock kernel's answer.
    if (!originalBackpropInput) throw new Error('wasm Conv2DBackpropInput: unsupported padding');
    return originalBackpropInput(args as never) as TensorInfo;
  }
  let dyd = dy;
  let bottomPad = bottom;
  let rightPad = right;
  if (sh > 1 || sw > 1) {
    dyd = zeroDilate(backend, dy, sh, sw);
    if (bottom < 0 || right < 0) {
      // Trailing zeros of the dilation that fall outside the input: drop them.
      const [b, dh, dw, c] = dyd.shape as [number, number, number, number];
      const cropped = run('Slice', backend, { x: dyd }, { begin: [0, 0, 0, 0], size: [b, dh + Math.min(bottom, 0), dw + Math.min(right, 0), c] });
      dispose(backend, dyd);
      dyd = cropped;
      bottomPad = Math.max(bottom, 0);
      rightPad = Math.max(right, 0);
    }
  }
  const flipped = run('Reverse', backend, { x: filter }, { dims: [0, 1] });
  const wT = run('Transpose', backend, { x: flipped }, { perm: [0, 1, 3, 2] }); // [KH,KW,Co,Ci]
  const out = conv(backend, dyd, wT, [1, 1], [[0, 0], [top, bottomPad], [left, rightPad], [0, 0]]);
  dispose(backend, flipped, wT);
  if (dyd !== dy) dispose(backend, dyd);
  return out;
}

let registered = false;

/**
 * Registers the two conv gradient kernels for the 'wasm' back end (idempotent). Call before training on wasm.
 * The stock Conv2DBackpropInput is kept as a fallback for paddings the fast path does not express.
 */
export function registerWasmConvGradients(): void {
  if (registered) return;
  const stockInput = getKernel('Conv2DBackpropInput', 'wasm');
  if (stockInput) {
    originalBackpropInput = stockInput.kernelFunc;
    unregisterKernel('Conv2DBackpropInput', 'wasm');
  }
  if (getKernel('Conv2DBackpropFilter', 'wasm')) unregisterKernel('Conv2DBackpropFilter', 'wasm');
  const configs: KernelConfig[] = [
    { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter as unknown as KernelFunc },
    { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: conv2DBackpropInput as unknown as KernelFunc },
  ];
  for (const c of configs) registerKernel(c);
  registered = true;
}
