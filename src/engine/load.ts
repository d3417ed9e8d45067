import { tensorrtFromAddon, type TensorRTAvailability } from './addon.js';

let cached: Promise<TensorRTAvailability> | undefined;

/**
 * The TensorRT interface of the native addon, or why there is none. The addon itself is loaded by src/native.ts
 * (the one loader: local build → diagnosis); this only asks it for the module and picks `tensorrt` out of it.
 */
export function loadTensorRT(): Promise<TensorRTAvailability> {
  cached ??= (async () => {
    // PROVISIONAL until src/native.ts lands: resolved at run time so this file compiles before it exists.
    const specifier = '../native.js';
    try {
      const native = (await import(specifier)) as { loadAddon?: () => unknown };
      return tensorrtFromAddon(native.loadAddon?.(), 'src/native.ts has no loadAddon()');
    } catch (err) {
      return tensorrtFromAddon(undefined, (err as Error).message);
    }
  })();
  return cached;
}
