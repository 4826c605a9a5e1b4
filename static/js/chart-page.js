// The chart page: one saved query as a live chart, its controls and URL state, the data table,
// downloads of the current view (CSV, JSON) and exports of the chart (SVG, PNG).

import {exportPng, exportSvg, legendEntries} from "./export.js";
import {controlPanels} from "./page.js";
import {ChartPanel, readConfig} from "./panel.js";
import {resultsParams} from "./state.js";

const page = document.querySelector("[data-chart-page]");
if (page) start(page);

function start(root) {
  const config = readConfig(root);
  let controller = null;
  const exports = [...root.querySelectorAll("[data-export]")];
  const panel = new ChartPanel(root, config, {
    height: 340,
    onBrush: (start, end, bucketMs) => controller.zoom(start, end, bucketMs),
    // Export needs an SVG: not while loading, empty, failed, or when the chart is a table.
    onDraw: () => exports.forEach((button) => { button.disabled = !panel.svg(); }),
  });
  controller = controlPanels({
    form: root.querySelector("[data-controls]"),
    panels: [panel],
    defaults: {refresh: config.refreshInterval || 0},
    onState: (state) => updateDownloads(root, config, state),
  });
  wireExports(exports, config, panel);
}

/** The download links always fetch what is on screen: the same interval and granularity. */
function updateDownloads(root, config, state) {
  for (const link of root.querySelectorAll("[data-download]")) {
    const params = resultsParams(state);
    params.set("format", link.dataset.download);
    link.href = `${config.resultsUrl}?${params}`;
  }
}

function wireExports(buttons, config, panel) {
  for (const button of buttons) {
    button.addEventListener("click", async () => {
      const svg = panel.svg();
      if (!svg) return; // nothing drawn (empty, error, or a table)
      const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
      const options = {filename: `${config.slug}-${stamp}`, legend: legendEntries(panel.chart)};
      if (button.dataset.export === "png") await exportPng(svg, options);
      else exportSvg(svg, options);
    });
  }
}
