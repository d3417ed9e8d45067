// The live station page's model panel: the model in service, each camera's thresholds and the bundle that
// produced its latest frame, and the latest swaps (the `mmaerec.model/1` outcomes the sinks announced). Drawn
// from the snapshot and from every `models` server-sent event. Plain browser JavaScript (no build step).
'use strict';
window.stationModels = (() => {
  const $ = (id) => document.getElementById(id);
  const num = (v, digits) => (v === null || v === undefined || Number.isNaN(v) ? '—' : Number(v).toFixed(digits));
  const bundle = (b) => (b ? `${b.bundleName} (sha256 ${b.bundleSha256.slice(0, 12)}…)` : '—');
  const cell = (text, cls) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  };

  function inService(p) {
    return p ? `model: ${bundle(p)} on ${p.backend}, scoring ${p.scoringEngine ?? '?'}` : 'model: not loaded yet';
  }

  function cameraRow(c) {
    const tr = document.createElement('tr');
    tr.dataset.camera = c.id;
    tr.append(
      cell(c.id, 'camera'),
      cell(num(c.imageThreshold, 4), 'image-threshold'),
      cell(num(c.pixelThreshold, 4), 'pixel-threshold'),
      cell(c.thresholdSource ?? '—', 'threshold-source'),
      cell(bundle(c.latest), 'latest-model'),
    );
    return tr;
  }

  function swapLine(s) {
    const li = document.createElement('li');
    li.dataset.outcome = s.outcome;
    const who = s.candidate.bundleName ? bundle(s.candidate) : s.candidate.path;
    const shadow = s.shadow ? `; shadow: ${s.shadow.frames} frames, ${(s.shadow.agreement * 100).toFixed(0)} % same verdict` : '';
    const why = s.outcome === 'refused' ? ` — ${s.reason ?? ''}` : shadow;
    li.textContent = `${new Date(s.at).toLocaleTimeString()} ${s.outcome} (${s.trigger}): ${who}${why}`;
    return li;
  }

  /** Shows `m` (StationModels); returns the camera ids it names, in order. */
  function render(m) {
    $('model').textContent = inService(m.inService);
    $('cameras').tBodies[0].replaceChildren(...m.cameras.map(cameraRow));
    $('swaps').replaceChildren(...m.swaps.slice().reverse().map(swapLine));
    $('swaps-none').hidden = m.swaps.length > 0;
    return m.cameras.map((c) => c.id);
  }

  return { render };
})();
