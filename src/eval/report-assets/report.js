// report.html's script (inlined by src/eval/report.ts, with uPlot before it): the threshold slider and what
// it recomputes, the histogram and curve charts, the sortable per-image table and its detail panels. Plain
// browser JavaScript; the data comes from the page's own <script type="application/json" id="report-data">.
'use strict';
(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const images = data.images;
  const scores = images.map((im) => im.score);
  let threshold = data.threshold ? data.threshold.value : scores.slice().sort((a, b) => a - b)[Math.floor(scores.length / 2)] ?? 0;
  const redraws = [];

  const pct = (v) => (v === null ? 'n/a' : `${(v * 100).toFixed(2)} %`);
  const ratio = (a, b) => (b > 0 ? a / b : null);

  /** The confusion counts and rates at threshold t (score ≥ t: flagged defect), as eval and calibrate count them. */
  function confusion(t) {
    let tp = 0, fn = 0, fp = 0, tn = 0;
    for (const im of images) {
      const flagged = im.score >= t;
      if (im.label === 1) flagged ? tp++ : fn++;
      else flagged ? fp++ : tn++;
    }
    return {
      tp, fn, fp, tn,
      falseAlarmRate: ratio(fp, fp + tn), missRate: ratio(fn, tp + fn),
      precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn), f1: ratio(2 * tp, 2 * tp + fp + fn),
    };
  }

  const verdictOf = (im, t) => (im.label === 1 ? (im.score >= t ? 'detected' : 'miss') : im.score >= t ? 'false alarm' : 'passed');

  // ---- slider, marks, confusion table ----
  const lo = Math.min(...scores, ...data.marks.map((m) => m.value));
  const hi = Math.max(...scores, ...data.marks.map((m) => m.value));
  const pad = (hi - lo) * 0.02 || 0.5;
  const slider = $('threshold-slider');
  slider.min = String(lo - pad);
  slider.max = String(hi + pad);
  slider.step = String((hi - lo + 2 * pad) / 2000);

  for (const m of data.marks) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `mark ${m.kind}`;
    b.dataset.value = String(m.value);
    b.textContent = `${m.label}: ${m.value.toPrecision(5)}`;
    b.addEventListener('click', () => setThreshold(m.value));
    $('marks').append(b);
  }

  function setThreshold(t, from) {
    if (!Number.isFinite(t)) return;
    threshold = t;
    if (from !== slider) slider.value = String(t);
    if (from !== $('threshold-value')) $('threshold-value').value = String(t);
    const c = confusion(t);
    for (const k of ['tp', 'fn', 'fp', 'tn']) $(k).textContent = String(c[k]);
    $('false-alarm-rate').textContent = pct(c.falseAlarmRate);
    $('miss-rate').textContent = pct(c.missRate);
    $('precision').textContent = pct(c.precision);
    $('recall').textContent = pct(c.recall);
    $('f1').textContent = c.f1 === null ? 'n/a' : c.f1.toFixed(4);
    for (const b of $('marks').children) b.classList.toggle('active', Number(b.dataset.value) === t);
    updateVerdicts();
    for (const r of redraws) r();
  }
  slider.addEventListener('input', () => setThreshold(Number(slider.value), slider));
  $('threshold-value').addEventListener('input', (e) => setThreshold(Number(e.target.value), e.target));

  // ---- charts (uPlot) ----
  /**
   * Vertical lines at the threshold (solid) and the marks (dashed). Labels are short, one text row each so none
   * overlaps another, and turn to the line's left in the right half so none runs off the plot; the legend is
   * HTML below the plot, so nothing is drawn over it.
   */
  function thresholdLines(u) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    const lines = [...data.marks.map((m) => ({ x: m.value, label: m.short, dash: [5, 4], colour: '#495057' })), { x: threshold, label: `threshold ${threshold.toPrecision(4)}`, dash: [], colour: '#000' }];
    ctx.save();
    ctx.font = `${10 * devicePixelRatio}px system-ui`;
    lines.forEach((l, i) => {
      const x = u.valToPos(l.x, 'x', true);
      const rightHalf = x > left + width / 2;
      ctx.textAlign = rightHalf ? 'right' : 'left';
      ctx.strokeStyle = l.colour;
      ctx.fillStyle = l.colour;
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.setLineDash(l.dash.map((d) => d * devicePixelRatio));
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
      ctx.fillText(l.label, x + (rightHalf ? -3 : 3) * devicePixelRatio, top + (12 + 12 * i) * devicePixelRatio);
    });
    ctx.restore();
  }

  function histogram() {
    const bins = 30;
    const span = hi - lo || 1;
    const width = span / bins;
    const centres = Array.from({ length: bins }, (_, b) => lo + (b + 0.5) * width);
    const count = (label) => {
      const c = new Array(bins).fill(0);
      const of = images.filter((im) => im.label === label);
      for (const im of of) c[Math.min(bins - 1, Math.floor(((im.score - lo) / span) * bins))]++;
      return c.map((n) => n / Math.max(of.length, 1));
    };
    const good = images.filter((im) => im.label === 0).length;
    const bars = uPlot.paths.bars({ size: [0.9, Infinity] });
    const u = new uPlot({
      width: 520, height: 320, title: 'Image scores: good vs defective',
      scales: { x: { time: false, range: [lo - pad, hi + pad] } },
      axes: [{ label: 'image score' }, { label: 'fraction of class' }],
      series: [
        { label: 'score' },
        { label: `good (${good})`, stroke: '#2b8a3e', fill: 'rgba(43,138,62,0.45)', paths: bars, points: { show: false } },
        { label: `defective (${images.length - good})`, stroke: '#c92a2a', fill: 'rgba(201,42,42,0.45)', paths: bars, points: { show: false } },
      ],
      legend: { live: false },
      hooks: { draw: [thresholdLines] },
    }, [centres, count(0), count(1)], $('chart-histogram'));
    redraws.push(() => u.redraw(false));
  }

  /** The operating point of all images at the threshold, on the ROC (FPR, TPR) or PR (recall, precision) plane. */
  function operatingPoint(kind) {
    const c = confusion(threshold);
    if (kind === 'roc') return c.falseAlarmRate === null || c.recall === null ? null : [c.falseAlarmRate, c.recall];
    return c.recall === null || c.precision === null ? null : [c.recall, c.precision];
  }

  function curveChart(spec) {
    const holder = document.createElement('div');
    holder.className = 'chart';
    holder.id = `chart-${spec.id}`;
    $('curve-charts').append(holder);
    const extras = (u) => {
      const ctx = u.ctx;
      ctx.save();
      ctx.lineWidth = devicePixelRatio;
      ctx.strokeStyle = '#adb5bd';
      ctx.setLineDash([4 * devicePixelRatio, 4 * devicePixelRatio]);
      if (spec.diagonal) {
        ctx.beginPath();
        ctx.moveTo(u.valToPos(0, 'x', true), u.valToPos(0, 'y', true));
        ctx.lineTo(u.valToPos(spec.xMax, 'x', true), u.valToPos(spec.xMax, 'y', true));
        ctx.stroke();
      }
      if (spec.marker) {
        const x = u.valToPos(spec.marker.x, 'x', true);
        ctx.strokeStyle = '#495057';
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.fillStyle = '#495057';
        ctx.font = `${10 * devicePixelRatio}px system-ui`;
        ctx.fillText(spec.marker.label, x + 3 * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
      }
      const p = spec.operatingPoint && operatingPoint(spec.operatingPoint);
      if (p) {
        ctx.setLineDash([]);
        ctx.fillStyle = '#000';
        ctx.beginPath();
        ctx.arc(u.valToPos(p[0], 'x', true), u.valToPos(p[1], 'y', true), 4.5 * devicePixelRatio, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.restore();
    };
    const u = new uPlot({
      mode: 2, width: 420, height: 320, title: spec.title,
      scales: { x: { time: false, range: [0, spec.xMax] }, y: { range: [0, 1.02] } },
      axes: [{ label: spec.xLabel }, { label: spec.yLabel }],
      legend: { live: false },
      cursor: { show: false },
      series: [{}, ...spec.series.map((s) => ({ label: s.name, stroke: s.colour, width: 1.6, paths: uPlot.paths.linear(), points: { show: false } }))],
      hooks: { draw: [extras] },
    }, [null, ...spec.series.map((s) => [s.x, s.y])], holder);
    holder.dataset.series = String(spec.series.length);
    if (spec.operatingPoint) redraws.push(() => u.redraw(false));
  }

  // ---- per-image table and detail ----
  const body = $('images').tBodies[0];
  const rows = images.map((im, i) => {
    const tr = document.createElement('tr');
    tr.dataset.index = String(i);
    tr.dataset.key = im.key;
    const cells = [im.key, im.defect, im.score.toPrecision(5), '', im.regions === null ? '—' : String(im.regions.length)];
    cells.forEach((text, c) => {
      const td = document.createElement('td');
      td.textContent = text;
      td.className = ['key', 'defect', 'score', 'verdict', 'regions'][c];
      tr.append(td);
    });
    tr.addEventListener('click', () => showImage(i));
    return tr;
  });
  body.append(...rows);

  function updateVerdicts() {
    rows.forEach((tr, i) => {
      const v = verdictOf(images[i], threshold);
      tr.cells[3].textContent = v;
      tr.className = `${v.replace(' ', '-')}${tr.classList.contains('selected') ? ' selected' : ''}`;
    });
  }

  let sortKey = null;
  let sortDir = 1;
  const sortValue = {
    key: (im) => im.key, defect: (im) => im.defect, score: (im) => im.score,
    verdict: (im) => verdictOf(im, threshold), regions: (im) => (im.regions === null ? -1 : im.regions.length),
  };
  for (const th of $('images').tHead.rows[0].cells) {
    th.addEventListener('click', () => {
      const key = th.dataset.sort;
      sortDir = sortKey === key ? -sortDir : 1;
      sortKey = key;
      for (const other of th.parentElement.cells) other.classList.remove('asc', 'desc');
      th.classList.add(sortDir > 0 ? 'asc' : 'desc');
      const value = sortValue[key];
      const order = images.map((_, i) => i).sort((a, b) => {
        const va = value(images[a]);
        const vb = value(images[b]);
        return (va < vb ? -1 : va > vb ? 1 : a - b) * sortDir;
      });
      body.replaceChildren(...order.map((i) => rows[i]));
    });
  }

  function overlay(im) {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', `0 0 ${im.mapWidth} ${im.mapHeight}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    for (const r of im.regions ?? []) {
      const rect = document.createElementNS(SVG, 'rect');
      rect.setAttribute('class', 'region');
      for (const [k, v] of Object.entries({ x: r.x, y: r.y, width: Math.max(r.width, 1), height: Math.max(r.height, 1) })) rect.setAttribute(k, String(v));
      svg.append(rect);
    }
    if (im.contour) {
      const path = document.createElementNS(SVG, 'path');
      path.setAttribute('class', 'truth-contour');
      path.setAttribute('d', im.contour);
      svg.append(path);
    }
    return svg;
  }

  function img(src, cls, alt) {
    const e = document.createElement('img');
    e.src = src;
    e.className = cls;
    e.alt = alt;
    return e;
  }

  function showImage(i) {
    const im = images[i];
    for (const tr of rows) tr.classList.remove('selected');
    rows[i].classList.add('selected');
    $('image-detail').hidden = false;
    $('image-detail').dataset.key = im.key;
    const truth = im.label === 0 ? 'good' : im.contour === null ? `${im.defect}, no mask` : im.defect;
    $('detail-title').textContent = `${im.key} (${truth}): score ${im.score.toPrecision(5)}, ${verdictOf(im, threshold)}`;
    if (im.input === null) {
      // left out by the report's budget for images (eval --report-mib): say so where the panels would be
      const note = document.createElement('p');
      note.className = 'left-out';
      note.textContent = 'panels not embedded: report.html keeps its images within eval --report-mib (misses, false alarms and the images nearest the threshold first)';
      $('panel-input').replaceChildren(note);
      $('panel-recon').replaceChildren();
      $('panel-heatmap').replaceChildren(overlay(im));
      return;
    }
    $('panel-input').replaceChildren(img(im.input, 'input', `input of ${im.key}`));
    $('panel-recon').replaceChildren(img(im.recon, 'recon', `reconstruction of ${im.key}`));
    $('panel-heatmap').replaceChildren(img(im.input, 'input', `input of ${im.key}`), img(im.heatmap, 'heatmap', `heatmap of ${im.key}`), overlay(im));
  }

  histogram();
  for (const spec of data.charts) curveChart(spec);
  setThreshold(threshold);
})();
