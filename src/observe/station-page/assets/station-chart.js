// The live station page's score chart: for each camera, its image scores and the threshold they were judged
// against, on one time axis (uPlot). Cameras of a cell have thresholds of their own, and a model swap may
// change them, so each camera's threshold is its own stepped series, carried forward from its latest frame:
// a threshold stays in force between two frames of its camera. Plain browser JavaScript (no build step).
'use strict';
window.stationChart = (() => {
  const COLOURS = ['#1c7ed6', '#e8590c', '#2b8a3e', '#7048e8', '#c2255c', '#0c8599', '#5c940d', '#862e9c'];
  let chart;
  /** The cameras the chart was made for: another set needs other series, so a new chart. */
  let madeFor = '';

  /** [times, then per camera: its scores (null at other cameras' frames), its threshold in force]. */
  function data(verdicts, cameras) {
    const rows = verdicts.filter((f) => f.score !== undefined).sort((a, b) => a.finishedAt - b.finishedAt);
    const columns = [rows.map((f) => f.finishedAt / 1000)];
    for (const camera of cameras) {
      let inForce = null;
      const scores = [];
      const thresholds = [];
      for (const f of rows) {
        const mine = f.camera === camera;
        if (mine) inForce = f.imageThreshold;
        scores.push(mine ? f.score : null);
        thresholds.push(inForce);
      }
      columns.push(scores, thresholds);
    }
    return columns;
  }

  /** One camera keeps the page's first look (blue scores, red threshold); several get a colour each. */
  function series(cameras) {
    const one = cameras.length === 1;
    // the legend shows the values at the cursor with the digits of the verdict stream
    const value = (u, v) => (v === null || v === undefined ? '—' : v.toFixed(4));
    return cameras.flatMap((camera, i) => {
      const colour = COLOURS[i % COLOURS.length];
      return [
        { label: one ? 'image score' : `${camera} score`, stroke: colour, width: 1.5, spanGaps: true, value, points: { show: true, size: 4 } },
        { label: one ? 'threshold' : `${camera} threshold`, stroke: one ? '#c92a2a' : colour, width: 1.5, dash: [6, 4], spanGaps: true, value, points: { show: false }, paths: uPlot.paths.stepped({ align: 1 }) },
      ];
    });
  }

  /** Draws (or updates) the chart in `target`; `shown` is the camera the page's selector shows, or '' for all. */
  function render(target, verdicts, cameras, shown) {
    const key = cameras.join('\n');
    if (chart && key !== madeFor) {
      chart.destroy();
      chart = undefined;
    }
    if (!chart) {
      madeFor = key;
      const width = Math.min(1100, document.body.clientWidth - 20);
      chart = new uPlot({ width, height: 220, scales: { x: { time: true } }, series: [{}, ...series(cameras)], axes: [{}, { label: 'score' }] }, data(verdicts, cameras), target);
    } else chart.setData(data(verdicts, cameras));
    cameras.forEach((camera, i) => {
      const show = !shown || shown === camera;
      for (const s of [1 + 2 * i, 2 + 2 * i]) if (chart.series[s].show !== show) chart.setSeries(s, { show });
    });
  }

  return { render };
})();
