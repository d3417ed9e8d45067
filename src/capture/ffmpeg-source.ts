import { MmaerecError } from '../errors.js';
import { executableRuns, ProcessSource, type CaptureCommand, type ProcessSourceOptions } from './process-source.js';

export interface FfmpegSourceOptions extends ProcessSourceOptions {
  /** A video file, an `rtsp://`/`http://`/`udp://` URL, or a V4L2 device such as `/dev/video0`. */
  input: string;
  /** Output frame rate (frames are dropped or duplicated by ffmpeg to match); default: the input's. */
  fps?: number;
  /** Read a file at its native rate, as a camera would deliver it (`-re`). Default false. */
  realtime?: boolean;
  /** Loop a video file forever (`-stream_loop -1`), e.g. to simulate a camera. Default false. */
  loop?: boolean;
  /** Extra arguments before `-i` (e.g. `['-input_format', 'mjpeg']` for a V4L2 camera). */
  inputArgs?: string[];
  /** ffmpeg executable (default `ffmpeg` on PATH). */
  ffmpegPath?: string;
}

/** True for inputs that are live streams (cameras): those default to restart + drop-oldest. */
export function isLiveInput(input: string): boolean {
  return /^(rtsp|rtsps|rtmp|udp|tcp|srt|http|https):\/\//i.test(input) || input.startsWith('/dev/video');
}

/**
 * Frames from an ffmpeg child process: `-f rawvideo -pix_fmt rgb24` on stdout, scaled to width×height.
 * Live inputs (RTSP, V4L2, network streams) restart on exit with backoff and drop the oldest frames when the
 * pipeline falls behind; video files play once (or loop) with `block` backpressure.
 */
export class FfmpegSource extends ProcessSource {
  readonly name: string;
  private readonly opts: FfmpegSourceOptions;

  constructor(options: FfmpegSourceOptions) {
    if (typeof options?.input !== 'string' || !options.input) {
      throw new TypeError('Expected a file path, URL or device for input');
    }
    super(options, isLiveInput(options.input) || !!options.loop, 'ffmpeg');
    this.opts = options;
    this.name = `ffmpeg:${options.input}`;
  }

  protected override async prepare(): Promise<void> {
    const exe = this.opts.ffmpegPath ?? 'ffmpeg';
    if (!executableRuns(exe, '-version')) {
      throw new MmaerecError('E_UNSUPPORTED', `${exe} is not installed or not on PATH: install ffmpeg (apt install ffmpeg) or set ffmpegPath`);
    }
  }

  protected command(): CaptureCommand {
    const o = this.opts;
    const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
    if (o.input.startsWith('/dev/video')) args.push('-f', 'v4l2');
    if (/^rtsps?:\/\//i.test(o.input)) args.push('-rtsp_transport', 'tcp');
    if (o.realtime) args.push('-re');
    if (o.loop) args.push('-stream_loop', '-1');
    args.push(...(o.inputArgs ?? []), '-i', o.input, '-an');
    const filters = [`scale=${this.width}:${this.height}`];
    if (o.fps) filters.push(`fps=${o.fps}`);
    args.push('-vf', filters.join(','), '-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1');
    return { file: o.ffmpegPath ?? 'ffmpeg', args };
  }
}
