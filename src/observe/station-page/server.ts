import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { MmaerecError } from '../../errors.js';
import { packageFile, uplotFile } from '../../util/package-files.js';
import { authorized, queryTokenMatches, tokenCookie } from './auth.js';
import { IMAGE_KINDS, type ImageKind, type StationFeed } from './feed.js';

/**
 * The live station page's HTTP server (node:http; the page is a few static files and a few JSON routes, which
 * no framework would make shorter): the page and its assets, a JSON snapshot, each kept frame's record and
 * PNGs, and a server-sent-event stream (`frame` per record, `models` when the model panel changes, `stats` at
 * most every `statsMs`). Browser code and uPlot are served as they are from disk (no build step): the page's
 * own files from src/observe/station-page/assets in the package, uPlot from node_modules.
 */
export interface StationPageOptions {
  port: number;
  host?: string;
  /** Bearer token every request must carry (see auth.ts); none on a loopback address. */
  token?: string;
  /** Least interval between two `stats` events (default 250 ms; also sent every second while clients listen). */
  statsMs?: number;
}

export interface StationPage {
  url: string;
  close(): Promise<void>;
}

const ownAsset = (name: string) => packageFile(`src/observe/station-page/assets/${name}`);

const ASSETS: Record<string, { file: () => string; type: string }> = {
  'index.html': { file: () => ownAsset('index.html'), type: 'text/html; charset=utf-8' },
  'station.js': { file: () => ownAsset('station.js'), type: 'text/javascript; charset=utf-8' },
  'station-chart.js': { file: () => ownAsset('station-chart.js'), type: 'text/javascript; charset=utf-8' },
  'station-models.js': { file: () => ownAsset('station-models.js'), type: 'text/javascript; charset=utf-8' },
  'station.css': { file: () => ownAsset('station.css'), type: 'text/css; charset=utf-8' },
  'uPlot.iife.min.js': { file: () => uplotFile('uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { file: () => uplotFile('uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** A client slower than this many buffered bytes is disconnected (it reconnects and starts from a snapshot). */
const MAX_CLIENT_BACKLOG = 1 << 20;

const HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...HEADERS, 'content-type': type, ...extra });
  res.end(body);
}

const text = (res: ServerResponse, status: number, body: string) => send(res, status, 'text/plain; charset=utf-8', body + '\n');
const json = (res: ServerResponse, body: unknown) => send(res, 200, 'application/json', JSON.stringify(body), { 'cache-control': 'no-store' });

/** Starts the page's server on host:port (port 0: any free port). Rejects with E_CONFIG when it cannot bind. */
export async function serveStationPage(feed: StationFeed, options: StationPageOptions): Promise<StationPage> {
  const host = options.host ?? '127.0.0.1';
  const run = randomBytes(6).toString('hex');
  const assets = new Map<string, Buffer>();
  const clients = new Set<ServerResponse>();
  const statsMs = options.statsMs ?? 250;

  const asset = async (name: string): Promise<Buffer> => {
    let body = assets.get(name);
    if (!body) assets.set(name, (body = await readFile(ASSETS[name]!.file())));
    return body;
  };

  const broadcast = (event: string, data: unknown): void => {
    const chunk = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of clients) {
      if (res.writableLength > MAX_CLIENT_BACKLOG) res.destroy();
      else res.write(chunk);
    }
  };

  let statsTimer: NodeJS.Timeout | undefined;
  let lastStats = 0;
  const sendStats = (): void => {
    statsTimer = undefined;
    lastStats = Date.now();
    if (clients.size) feed.stats().then((s) => broadcast('stats', s), () => undefined);
  };
  const statsSoon = (): void => {
    statsTimer ??= setTimeout(sendStats, Math.max(0, lastStats + statsMs - Date.now()));
  };
  const unsubscribe = feed.subscribe((event) => {
    if (event.kind === 'models') return broadcast('models', event.models);
    broadcast('frame', event.frame);
    statsSoon();
  });
  const heartbeat = setInterval(statsSoon, 1000);
  heartbeat.unref();

  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname;
    if (path === '/') {
      // the token from the link becomes a cookie, and the address bar loses it
      if (queryTokenMatches(url.searchParams, options.token)) return send(res, 303, 'text/plain', '', { location: '/', 'set-cookie': tokenCookie(options.token!) });
      if (!authorized(req, options.token)) return text(res, 401, 'unauthorized: open the page as /?token=<the token in page.tokenEnv>, or send Authorization: Bearer <token>');
      return send(res, 200, ASSETS['index.html']!.type, await asset('index.html'), { 'cache-control': 'no-store' });
    }
    if (!authorized(req, options.token)) return text(res, 401, 'unauthorized: send Authorization: Bearer <token>, or open /?token=<token> first');
    const assetName = path.startsWith('/assets/') ? path.slice(8) : undefined;
    if (assetName !== undefined && assetName !== 'index.html' && ASSETS[assetName]) {
      return send(res, 200, ASSETS[assetName].type, await asset(assetName), { 'cache-control': 'no-cache' });
    }
    if (path === '/api/state') {
      return json(res, { run, models: feed.models(), capacity: { frames: feed.frames, history: feed.history }, frames: feed.verdictList(), stats: await feed.stats() });
    }
    if (path === '/events') return openStream(req, res);
    const detail = /^\/api\/frames\/(\d+)$/.exec(path);
    if (detail) {
      const d = feed.detail(Number(detail[1]));
      return d ? json(res, d) : text(res, 404, gone(detail[1]!, feed.frames));
    }
    const image = /^\/frames\/(\d+)\/(\w+)\.png$/.exec(path);
    if (image && (IMAGE_KINDS as readonly string[]).includes(image[2]!)) {
      const png = feed.image(Number(image[1]), image[2] as ImageKind);
      if (!png) return text(res, 404, gone(image[1]!, feed.frames));
      // immutable: a frame's images never change, and URLs carry the run id (?run=), so a new run is a new URL
      return send(res, 200, 'image/png', await png, { 'cache-control': 'private, max-age=86400, immutable' });
    }
    return text(res, 404, `not found: ${path} (the page is at /)`);
  };

  const openStream = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { ...HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    clients.add(res);
    req.on('close', () => clients.delete(res));
    statsSoon();
  };

  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed: the station page only answers GET');
    const url = new URL(req.url ?? '/', 'http://page');
    routes(req, res, url).catch((err: Error) => {
      if (!res.headersSent) text(res, 500, `station page error: ${err.message.split('\n')[0]}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new MmaerecError('E_CONFIG', `cannot serve the station page on ${host}:${options.port} (${err.code ?? err.message}): choose another page.port`)),
    );
    server.listen(options.port, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}/`,
    close: () => {
      unsubscribe();
      clearInterval(heartbeat);
      if (statsTimer) clearTimeout(statsTimer);
      for (const res of clients) res.end();
      clients.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}

const gone = (seq: string, frames: number) => `frame ${seq} is no longer kept: the page keeps the images of the last ${frames} frames (page.frames)`;
