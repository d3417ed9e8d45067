// The live station page (served by `mmaerec-edge run` with `page:` in the config). Plain browser JavaScript,
// no build step: a snapshot from /api/state, then server-sent events (/events): `frame` for every verdict,
// `models` when the model panel changes (a swap, a camera's first frame), `stats` for the counters. Images are
// fetched only when shown, by frame number (cached: they never change). The chart and the model panel are in
// station-chart.js and station-models.js.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  let run = '';
  let capacity = { frames: 16, history: 600 };
  /** Verdicts in order, newest last (at most capacity.history). */
  let verdicts = [];
  let lastSeq = 0;
  /** Camera ids in the model panel's order, then any that only frames named. */
  let cameras = [];
  /** The version of the model panel shown (StationModels.version). */
  let modelsVersion = -1;

  const num = (v, digits) => (v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toFixed(digits));
  const el = (tag, props = {}, children = []) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) e.append(c);
    return e;
  };
  const imageUrl = (seq, kind) => `/frames/${seq}/${kind}.png?run=${run}`;

  /** Input with the heatmap and region boxes over it (CSS decides whether they show). */
  function panel(frame, kind = 'input') {
    const p = el('div', { class: 'panel' });
    p.append(el('img', { class: kind, src: imageUrl(frame.seq, kind), alt: `${kind} of ${frame.frameId}`, loading: 'lazy' }));
    if (kind !== 'input') return p;
    p.append(el('img', { class: 'heatmap', src: imageUrl(frame.seq, 'heatmap'), alt: `heatmap of ${frame.frameId}`, loading: 'lazy' }));
    p.append(boxes(frame.images));
    return p;
  }

  function boxes(images) {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'boxes');
    svg.setAttribute('viewBox', `0 0 ${images.width} ${images.height}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    for (const b of images.boxes) {
      const r = document.createElementNS(SVG, 'rect');
      r.setAttribute('x', b.x);
      r.setAttribute('y', b.y);
      r.setAttribute('width', Math.max(b.width, 1));
      r.setAttribute('height', Math.max(b.height, 1));
      svg.append(r);
    }
    return svg;
  }

  function caption(f) {
    // the camera only where there are several (CSS: .multi-camera)
    const camera = el('span', { class: 'cam', text: `${f.camera} ` });
    if (f.verdict === 'error') return [camera, `${f.frameId} ERROR ${f.code}`];
    return [camera, `${f.frameId} ${f.verdict === 'defect' ? 'DEFECT' : 'ok'} ${num(f.score, 4)}`];
  }

  /** The camera the selector shows ('' for all). */
  const shownCamera = () => $('camera-filter').value;

  function renderThumbs() {
    const camera = shownCamera();
    const shown = verdicts.filter((f) => f.images && (!camera || f.camera === camera)).slice(-capacity.frames).reverse();
    $('thumbs').replaceChildren(
      ...shown.map((f) => {
        const text = caption(f);
        const t = el('div', { class: 'thumb', 'data-seq': String(f.seq), 'data-camera': f.camera, 'data-frame-id': f.frameId, 'data-verdict': f.verdict, title: `${f.camera} ${text[1]}` }, [panel(f), el('span', { class: 'caption' }, text)]);
        t.addEventListener('click', () => openDetail(f.seq));
        return t;
      }),
    );
  }

  function passes(f) {
    if ($('only-defects').checked && f.verdict !== 'defect') return false;
    if (shownCamera() && f.camera !== shownCamera()) return false;
    return f.largestRegion >= (Number($('min-area').value) || 0);
  }

  function streamRow(f) {
    const model = f.model ? `${f.model.bundleName} ${f.model.bundleSha256.slice(0, 12)}` : '—';
    const cells = [f.seq, f.frameId, f.verdict === 'error' ? `error ${f.code}` : f.verdict, num(f.score, 4), num(f.imageThreshold, 4), f.regions, f.largestRegion, num(f.latency?.totalMs, 1), f.camera, model];
    const tr = el('tr', { 'data-seq': String(f.seq), 'data-camera': f.camera, 'data-verdict': f.verdict }, cells.map((c) => el('td', { text: String(c) })));
    tr.hidden = !passes(f);
    if (f.images) tr.addEventListener('click', () => openDetail(f.seq));
    return tr;
  }

  function renderStream() {
    $('stream').tBodies[0].replaceChildren(...verdicts.slice().reverse().map(streamRow));
  }

  function renderChart() {
    window.stationChart.render($('score-chart'), verdicts, cameras, shownCamera());
  }

  /** Adds cameras that frames name but the model panel does not (yet); true when the list grew. */
  function noteCameras(ids) {
    const before = cameras.length;
    for (const id of ids) if (!cameras.includes(id)) cameras.push(id);
    if (cameras.length === before) return false;
    document.body.classList.toggle('multi-camera', cameras.length > 1);
    const selected = shownCamera();
    $('camera-filter').replaceChildren(el('option', { value: '', text: 'all cameras' }), ...cameras.map((c) => el('option', { value: c, text: c })));
    $('camera-filter').value = selected;
    return true;
  }

  function onModels(m) {
    if (m.version < modelsVersion) return;
    modelsVersion = m.version;
    noteCameras(window.stationModels.render(m));
    renderChart();
  }

  function onFrame(f) {
    if (f.seq <= lastSeq) return;
    lastSeq = f.seq;
    if (noteCameras([f.camera])) renderStream();
    verdicts.push(f);
    if (verdicts.length > capacity.history) verdicts.shift();
    // frames older than the page keeps lose their images (the server has let them go)
    const withImages = verdicts.filter((v) => v.images);
    for (const v of withImages.slice(0, Math.max(0, withImages.length - capacity.frames))) delete v.images;
    const body = $('stream').tBodies[0];
    body.prepend(streamRow(f));
    while (body.rows.length > capacity.history) body.lastElementChild.remove();
    if (f.images) renderThumbs();
    renderChart();
  }

  function ago(ms) {
    const s = Math.max(0, (Date.now() - ms) / 1000);
    return s < 90 ? `${s.toFixed(0)} s ago` : s < 5400 ? `${(s / 60).toFixed(0)} min ago` : `${(s / 3600).toFixed(1)} h ago`;
  }

  function onStats(s) {
    $('frames-count').textContent = String(s.totals.ok + s.totals.defects);
    $('defects-count').textContent = String(s.totals.defects);
    $('defect-rate').textContent = s.defectRate === null ? '—' : `${(s.defectRate * 100).toFixed(1)} %`;
    $('errors-count').textContent = String(s.totals.errors);
    $('fps').textContent = num(s.fps, 2);
    $('latency-p50').textContent = num(s.p50Ms, 1);
    $('latency-p99').textContent = num(s.p99Ms, 1);
    $('drops').textContent = String(s.totals.drops);
    const rows = s.links.length
      ? s.links.map((l) => el('tr', { 'data-sink': l.sink, 'data-connected': String(l.connected) }, [
        el('td', { text: l.sink }),
        el('td', { class: 'link', text: l.connected ? 'connected' : 'disconnected' }),
        el('td', { class: 'backlog', text: `${l.backlog} (${(l.backlogBytes / 1024).toFixed(1)} KiB)` }),
        el('td', { class: 'oldest', text: l.oldestUndeliveredAt === null ? '—' : ago(l.oldestUndeliveredAt) }),
        el('td', { class: 'delivered', text: String(l.delivered) }),
      ]))
      : [el('tr', {}, [el('td', { colSpan: 5, text: 'no MQTT sink configured' })])];
    $('links').tBodies[0].replaceChildren(...rows);
  }

  async function openDetail(seq) {
    const res = await fetch(`/api/frames/${seq}`);
    const d = $('detail');
    if (!res.ok) {
      $('detail-title').textContent = await res.text();
      for (const id of ['panel-input', 'panel-recon', 'panel-heatmap', 'detail-scores', 'detail-regions', 'detail-latency']) $(id).replaceChildren();
      return d.open || d.showModal();
    }
    const { frame: f, record: r } = await res.json();
    $('detail-title').textContent = `#${f.seq} ${f.camera} ${f.frameId}: ${f.verdict.toUpperCase()}`;
    d.dataset.seq = String(f.seq);
    const fill = (id, kind) => {
      const p = f.images ? panel(f, kind) : el('div', { class: 'panel' });
      if (f.images && kind === 'heatmap') {
        p.prepend(el('img', { class: 'input', src: imageUrl(f.seq, 'input'), alt: `input of ${f.frameId}` }));
        p.append(boxes(f.images));
      }
      $(id).replaceChildren(...p.childNodes);
    };
    fill('panel-input', 'input');
    fill('panel-recon', 'recon');
    fill('panel-heatmap', 'heatmap');
    for (const img of $('panel-input').querySelectorAll('img.heatmap, svg.boxes')) img.remove();
    const model = r.model ? `${r.model.bundleName} (sha256 ${r.model.bundleSha256.slice(0, 12)}…)` : '—';
    const kv = [['camera', f.camera], ['model', model], ...(r.kind === 'error'
      ? [['error', `${r.code}: ${r.message}`]]
      : [['image score', num(r.score, 5)], ['image threshold', num(r.imageThreshold, 5)], ['pixel threshold', num(r.pixelThreshold, 5)], ['regions', String(r.regions.length)], ['captured', new Date(r.capturedAt).toISOString()]])];
    $('detail-scores').replaceChildren(...kv.map(([k, v]) => el('tr', {}, [el('th', { text: k }), el('td', { text: v })])));
    const regions = r.kind === 'error' ? [] : r.regions;
    $('detail-regions').replaceChildren(
      el('tr', {}, ['x', 'y', 'width', 'height', 'area', 'max score', 'mean score'].map((h) => el('th', { text: h }))),
      ...regions.map((g) => el('tr', {}, [g.x, g.y, g.width, g.height, g.area, num(g.maxScore, 4), num(g.meanScore, 4)].map((c) => el('td', { text: String(c) })))),
    );
    const l = r.latency;
    if (l) {
      const parts = [['decode', l.decodeMs], ['preprocess', l.preprocessMs], ['infer', l.inferMs], ['score', l.scoreMs]];
      const other = Math.max(0, l.totalMs - parts.reduce((n, [, v]) => n + v, 0));
      parts.push(['other', other]);
      $('detail-latency').replaceChildren(...parts.map(([name, ms]) => {
        const s = el('span', { class: name, title: `${name} ${ms.toFixed(2)} ms`, text: `${name} ${ms.toFixed(1)}` });
        s.style.width = `${(100 * ms) / Math.max(l.totalMs, 1e-9)}%`;
        return s;
      }));
      $('detail-latency').dataset.totalMs = l.totalMs.toFixed(2);
    } else $('detail-latency').replaceChildren();
    if (!d.open) d.showModal();
  }

  async function loadState() {
    const s = await (await fetch('/api/state')).json();
    run = s.run;
    capacity = s.capacity;
    verdicts = s.frames;
    lastSeq = verdicts.length ? verdicts[verdicts.length - 1].seq : 0;
    cameras = [];
    modelsVersion = -1;
    onModels(s.models);
    noteCameras(verdicts.map((f) => f.camera));
    onStats(s.stats);
    renderThumbs();
    renderStream();
    renderChart();
  }

  $('show-heatmap').addEventListener('change', (e) => document.body.classList.toggle('show-heatmap', e.target.checked));
  for (const id of ['only-defects', 'min-area']) $(id).addEventListener('input', renderStream);
  $('camera-filter').addEventListener('input', () => {
    renderStream();
    renderThumbs();
    renderChart();
  });

  // Events are buffered until the snapshot is in, so nothing between the two is lost or doubled.
  let ready = false;
  const early = [];
  const source = new EventSource('/events');
  source.addEventListener('frame', (e) => {
    const f = JSON.parse(e.data);
    if (ready) onFrame(f);
    else early.push(f);
  });
  source.addEventListener('stats', (e) => ready && onStats(JSON.parse(e.data)));
  let earlyModels;
  source.addEventListener('models', (e) => {
    const m = JSON.parse(e.data);
    if (ready) onModels(m);
    else earlyModels = m;
  });
  source.addEventListener('open', () => {
    $('station-state').textContent = 'live';
    $('station-state').className = 'state live';
    // after a lost connection, start again from a snapshot
    if (ready) loadState().catch(() => undefined);
  });
  source.addEventListener('error', () => {
    $('station-state').textContent = 'connection lost, retrying…';
    $('station-state').className = 'state lost';
  });
  loadState().then(() => {
    ready = true;
    for (const f of early.splice(0)) onFrame(f);
    // older than the snapshot (by version) is ignored
    if (earlyModels) onModels(earlyModels);
  });
})();
