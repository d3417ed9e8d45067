import { MmaerecError } from '../errors.js';
import { isLiveInput } from './ffmpeg-source.js';
import { executableRuns, ProcessSource, type CaptureCommand, type ProcessSourceOptions } from './process-source.js';

export interface GstreamerSourceOptions extends ProcessSourceOptions {
  /** A file path, a URI (`rtsp://…`, `file:///…`) or a V4L2 device (`/dev/video0`). */
  input: string;
  fps?: number;
  /** Replace the source element chain (everything before the caps conversion), e.g. `nvarguscamerasrc`. */
  sourceElements?: string;
  gstLaunchPath?: string;
}

/** Whether `gst-launch-1.0` can be run here. */
export function gstreamerAvailable(exe = 'gst-launch-1.0'): boolean {
  return executableRuns(exe, '--version');
}

/**
 * Frames from a `gst-launch-1.0` pipeline ending in `video/x-raw,format=RGB,width=W,height=H ! fdsink fd=1`:
 * the usual choice on a Jetson (hardware decoders, CSI cameras through `nvarguscamerasrc`). Same restart,
 * backoff and backpressure behaviour as the ffmpeg source. Refuses to start with E_UNSUPPORTED when
 * GStreamer is not installed.
 */
export class GstreamerSource extends ProcessSource {
  readonly name: string;
  private readonly opts: GstreamerSourceOptions;

  constructor(options: GstreamerSourceOptions) {
    if (typeof options?.input !== 'string' || !options.input) {
      throw new TypeError('Expected a file path, URI or device for input');
    }
    super(options, isLiveInput(options.input), 'gstreamer');
    this.opts = options;
    this.name = `gstreamer:${options.input}`;
  }

  protected override async prepare(): Promise<void> {
    const exe = this.opts.gstLaunchPath ?? 'gst-launch-1.0';
    if (!gstreamerAvailable(exe)) {
      throw new MmaerecError('E_UNSUPPORTED', `${exe} is not installed: install gstreamer1.0-tools and gstreamer1.0-plugins-base/good, or use the ffmpeg source`);
    }
  }

  /** The gst-launch argument list (tokens, as gst-launch joins its argv). */
  pipelineArgs(): string[] {
    const o = this.opts;
    let head: string[];
    if (o.sourceElements) head = o.sourceElements.split(/\s+/).filter(Boolean);
    else if (o.input.startsWith('/dev/video')) head = ['v4l2src', `device=${o.input}`];
    else {
      const uri = /^[a-z]+:\/\//i.test(o.input) ? o.input : `file://${o.input.startsWith('/') ? '' : process.cwd() + '/'}${o.input}`;
      head = ['uridecodebin', `uri=${uri}`];
    }
    const caps = `video/x-raw,format=RGB,width=${this.width},height=${this.height}${o.fps ? `,framerate=${framerateFraction(o.fps)}` : ''}`;
    const rate = o.fps ? ['!', 'videorate'] : [];
    return ['-q', ...head, '!', 'videoconvert', '!', 'videoscale', ...rate, '!', caps, '!', 'fdsink', 'fd=1'];
  }

  protected command(): CaptureCommand {
    return { file: this.opts.gstLaunchPath ?? 'gst-launch-1.0', args: this.pipelineArgs() };
  }
}

/**
 * GStreamer caps take a frame rate as a fraction: 7.5 fps must be written 15/2 ("7.5/1" is not valid caps and
 * gst-launch refuses the pipeline), NTSC's 29.97 as 30000/1001. The closest n/d with d ≤ 1001.
 */
export function framerateFraction(fps: number): string {
  if (Number.isInteger(fps)) return `${fps}/1`;
  let best = { n: Math.round(fps), d: 1, err: Math.abs(fps - Math.round(fps)) };
  for (let d = 2; d <= 1001 && best.err > 1e-9; d++) {
    const n = Math.round(fps * d);
    const err = Math.abs(fps - n / d);
    if (err < best.err - 1e-12) best = { n, d, err };
  }
  return `${best.n}/${best.d}`;
}
