import { nativeAddon, nativeStatus } from '../native.js';
import { tensorrtFromAddon, type TensorRTAvailability } from './addon.js';

/**
 * The TensorRT interface of the native addon, or why there is none. The addon is loaded by src/native.ts (the one
 * loader); this only picks `tensorrt` out of it. Asking the status first avoids native.ts's "using the TypeScript
 * kernels" warning, which is about scoring, not about TensorRT.
 */
export async function loadTensorRT(): Promise<TensorRTAvailability> {
  const status = nativeStatus();
  if (!status.loaded) return tensorrtFromAddon(undefined, status.reason);
  return tensorrtFromAddon(nativeAddon());
}
