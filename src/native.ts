/**
 * Typed loading of the native addon: a local build (build/Release/mmaerec_native.node) if there is one, else
 * the CPU prebuilt for this platform (prebuilds/linux-x64, prebuilds/linux-arm64). Where neither loads, callers fall
 * back to the TypeScript reference kernels in score/reference, and one line on stderr says why and how to fix
 * it. `MMAEREC_NATIVE=0` disables the addon on purpose (tests of the fallback, debugging).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MmaerecError } from './errors.js';
import type { MapRegion } from './score/reference/regions.js';

/** Parameters of the native fused score (already validated by score/fused.ts). */
export interface NativeFusedParams {
  scales: number;
  c: number;
  mu: number;
  structureWindow: number;
  colorWindow: number;
  border: 'valid' | 'zero';
  /** 0: off; odd w: the reconstruction takes the input's band below three w×w box means first. */
  shadingWindow: number;
  /** 0: score = max; in (0, 1]: mean of the top fraction. */
  topkFraction: number;
}

export interface NativeInfo {
  threads: number;
  device: 'auto' | 'cpu' | 'cuda';
  cuda: { compiled: boolean; available: boolean; deviceCount: number; deviceName: string; reason: string };
}

/** The addon's exports. Every kernel runs off the JS thread and resolves with a fresh output array. */
export interface NativeAddon {
  edgeMap<T extends Uint8Array | Float32Array>(image: T, width: number, height: number, channels: 1 | 3): Promise<T>;
  fusedScore(
    input: Float32Array,
    recon: Float32Array,
    width: number,
    height: number,
    params: NativeFusedParams,
  ): Promise<{ map: Float32Array; score: number; device: 'cpu' | 'cuda' }>;
  rgbToLab(rgb: Float32Array): Promise<Float32Array>;
  boxMean(plane: Float32Array, width: number, height: number, k: number, border: 'valid' | 'zero'): Promise<Float32Array>;
  msgms(a: Float32Array, b: Float32Array, width: number, height: number, scales: number, c: number): Promise<Float32Array>;
  regions(map: Float32Array, width: number, height: number, threshold: number): Promise<MapRegion[]>;
  /** Threads per kernel call (default min(2, cores)). */
  setThreads(threads: number): void;
  /** 'auto' uses CUDA when the addon has it and a device is usable, else the CPU. */
  setDevice(device: 'auto' | 'cpu' | 'cuda'): void;
  info(): NativeInfo;
}

/**
 * What computes the fused score: the native core on the CPU, the native core on a CUDA device, or the TypeScript
 * reference kernels (the fallback when the addon does not load: ≈ 5–50× slower). Results (`model.scoringEngine`)
 * and MQTT status heartbeats carry it, so that a slow line says why.
 */
export type ScoringEngine = 'native-cpu' | 'cuda' | 'typescript';
export const SCORING_ENGINES: readonly ScoringEngine[] = ['native-cpu', 'cuda', 'typescript'];

export interface NativeStatus {
  loaded: boolean;
  /** The .node file tried (the local build, else the prebuilt for this platform), or the folder searched. */
  path: string;
  /** Where that file came from: a build on this machine (build/Release) or the package's prebuilt (prebuilds/). */
  source?: 'local build' | 'prebuilt';
  /** Why it is not loaded (absent when loaded). */
  reason?: string;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const localBuildDir = join(packageRoot, 'build', 'Release');
/** The one command that builds the addon here, whatever installed the package (named in every fix). */
export const NATIVE_BUILD_FIX = `run \`npm run build:native\` in ${packageRoot} (needs a C++ compiler)`;

let cached: { addon: NativeAddon | null; status: NativeStatus } | undefined;
let warned = false;

/**
 * Which .node file to load, the way sharp and node-gyp-build order it: a local build (build/Release, what
 * `npm run build:native` writes, with CUDA/TensorRT when the target has them) wins; else the CPU prebuilt for
 * this platform shipped in prebuilds/<platform>-<arch>/ (scripts/prebuild.sh). node-gyp-build does the matching
 * (platform, arch, libc, N-API tags), so the names follow prebuildify's convention.
 */
function locate(): { path: string; source: 'local build' | 'prebuilt' } | { reason: string } {
  const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build') as { resolve(dir: string): string };
  try {
    const path = nodeGypBuild.resolve(packageRoot);
    return { path, source: path.startsWith(localBuildDir) ? 'local build' : 'prebuilt' };
  } catch {
    return {
      reason: `no local build in ${localBuildDir} and no prebuilt for ${process.platform}-${process.arch} in ${join(packageRoot, 'prebuilds')} (prebuilts exist for linux-x64 and linux-arm64 with glibc)`,
    };
  }
}

/** Why a found .node file failed to load, with what to do about it. */
function loadFailure(path: string, source: 'local build' | 'prebuilt', err: unknown): string {
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  const glibc = /(GLIBC(?:XX)?_[0-9.]+)' not found/.exec(first);
  if (source === 'prebuilt' && glibc) {
    return `loading the prebuilt ${path} failed: this system's C library lacks ${glibc[1]} (the prebuilt needs glibc ≥ 2.34 and libstdc++ ≥ GLIBCXX_3.4.30: Ubuntu 22.04, JetPack 6, Debian 12); build it for this system instead`;
  }
  if (source === 'local build') {
    return `loading the local build ${path} failed: ${first}; rebuild it, or delete ${dirname(localBuildDir)} to use the prebuilt`;
  }
  return `loading ${path} failed: ${first}`;
}

function load(): { addon: NativeAddon | null; status: NativeStatus } {
  if (process.env.MMAEREC_NATIVE === '0') {
    return { addon: null, status: { loaded: false, path: localBuildDir, reason: 'disabled by MMAEREC_NATIVE=0' } };
  }
  const found = locate();
  if ('reason' in found) return { addon: null, status: { loaded: false, path: localBuildDir, reason: found.reason } };
  try {
    const addon = createRequire(import.meta.url)(found.path) as NativeAddon;
    return { addon, status: { loaded: true, path: found.path, source: found.source } };
  } catch (err) {
    return { addon: null, status: { loaded: false, path: found.path, source: found.source, reason: loadFailure(found.path, found.source, err) } };
  }
}

/** The addon, or null (then the caller uses the TypeScript reference; the first such call warns once). */
export function nativeAddon(): NativeAddon | null {
  cached ??= load();
  if (!cached.addon && !warned) {
    warned = true;
    process.stderr.write(
      `mmaerec-edge: native addon not loaded (${cached.status.reason}); using the TypeScript kernels, much slower: ${NATIVE_BUILD_FIX}\n`,
    );
  }
  return cached.addon;
}

/** Whether the addon loaded, and why not; does not warn. */
export function nativeStatus(): NativeStatus {
  cached ??= load();
  return cached.status;
}

/**
 * The engine fusedScore uses now (see ScoringEngine): `typescript` when the addon did not load, `cuda` when the
 * addon's device is 'auto' or 'cuda' and a CUDA device is usable, else `native-cpu`. Does not warn.
 */
export function scoringEngine(): ScoringEngine {
  cached ??= load();
  const addon = cached.addon;
  if (!addon) return 'typescript';
  try {
    const info = addon.info();
    return info.device !== 'cpu' && info.cuda.available ? 'cuda' : 'native-cpu';
  } catch {
    return 'native-cpu';
  }
}

/**
 * Throws E_NATIVE (one line: why the addon did not load, and the fix) unless the native scoring core is loaded;
 * `field` names the setting that demands it (e.g. `backend.requireNativeScoring`).
 */
export function requireNativeScoring(field = 'backend.requireNativeScoring'): void {
  const status = nativeStatus();
  if (status.loaded) return;
  throw new MmaerecError(
    'E_NATIVE',
    `the native scoring core is not loaded (${status.reason}) and ${field} is true: ${NATIVE_BUILD_FIX}, or set ${field}: false to accept the TypeScript fallback (≈ 5–50× slower)`,
  );
}
