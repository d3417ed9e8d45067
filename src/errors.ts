/**
 * One error class for everything the SDK reports, with a stable `code` that callers can switch on.
 * Messages are one line and name both the problem and the fix ("... : <fix>").
 * Bad arguments at an API call site throw `TypeError`/`RangeError` instead (see `src/util/is.ts`).
 */
export type ErrorCode =
  | 'E_INPUT' // a frame, image or file given to the SDK is unusable
  | 'E_CONFIG' // a config file, CLI flag or option is invalid
  | 'E_BUNDLE' // a model bundle is missing, partial, tampered or of an unknown format
  | 'E_MODEL' // the network definition or its weights are inconsistent
  | 'E_INFER' // an inference back end failed or produced non-finite output
  | 'E_ENGINE' // TensorRT engine missing, stale or built for another GPU / version
  | 'E_NATIVE' // the native addon is missing or failed
  | 'E_BROKER' // MQTT broker unreachable, refused or rejected credentials
  | 'E_SPOOL' // the durable event spool is full, corrupt or unwritable
  | 'E_DATA' // a dataset folder is not in the expected layout
  | 'E_IO' // the file system refused (full disk, permissions)
  | 'E_UNSUPPORTED'; // the feature needs something this machine lacks (GPU, TensorRT, tfjs-node)

export class MmaerecError extends Error {
  override readonly name = 'MmaerecError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True for errors the SDK raised on purpose (shown to users without a stack trace). */
export function isMmaerecError(err: unknown): err is MmaerecError {
  return err instanceof MmaerecError;
}
