// A dashboard: every [data-panel] draws its saved query like the chart page does, and the one
// controls form applies its time range, granularity and auto-refresh to all of them.

import {controlPanels} from "./page.js";
import {ChartPanel, readConfig} from "./panel.js";

const board = document.querySelector("[data-dashboard]");
if (board) start(board);

function start(root) {
  const configs = [];
  let controller = null;
  const panels = [...root.querySelectorAll("[data-panel]")].map((element) => {
    const config = readConfig(element);
    configs.push(config);
    return new ChartPanel(element, config, {
      height: 240,
      onBrush: (start, end, bucketMs) => controller.zoom(start, end, bucketMs),
    });
  });
  controller = controlPanels({
    form: root.querySelector("[data-controls]"),
    panels,
    defaults: {refresh: defaultRefresh(configs)},
  });
}

/** The most eager saved refresh among the panels (the shared control has one value). */
function defaultRefresh(configs) {
  const wanted = configs.map((c) => c.refreshInterval).filter((seconds) => seconds > 0);
  return wanted.length ? Math.min(...wanted) : 0;
}
