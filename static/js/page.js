// What the chart page and dashboards share: one controls form and one URL state applied to one
// or more chart panels, with zoom by brushing, auto-refresh, and Back/Forward.

import {showStatus} from "./charts/common.js";
import {Refresher} from "./panel.js";
import {bindControls, fillControls, pushState, readState, zoomTo} from "./state.js";

/**
 * form: the [data-controls] form; panels: ChartPanel objects; defaults: {refresh} (the
 * seconds a page refreshes at unless the URL says otherwise); onState(state): called after
 * each change (the chart page updates its download links).
 */
export function controlPanels({form, panels, defaults, onState = () => {}}) {
  const status = formStatus(form);
  let state = null;
  const refresher = new Refresher(() => Promise.all(panels.map((panel) => panel.refresh())));

  function apply(next, {push = true} = {}) {
    showStatus(status, null);
    const rerun = !state || next.range !== state.range || next.start !== state.start ||
      next.end !== state.end || next.granularity !== state.granularity;
    state = next;
    fillControls(form, state);
    if (push) pushState(state, defaults);
    onState(state);
    refresher.set(state.refresh);
    if (rerun) panels.forEach((panel) => panel.load(state)); // a refresh change only re-times
  }

  /** Brushing a chart zooms every panel to that span, at a finer granularity. */
  function zoom(start, end, bucketMs) {
    apply({...state, range: "custom", ...zoomTo(start, end, bucketMs)});
  }

  /** Prefill for "Custom…": the span on screen, else the last hour. */
  function suggestRange() {
    const times = panels.flatMap((panel) => (panel.data?.rows || []).map((row) => Date.parse(row[0])));
    const now = Date.now();
    const start = times.length ? Math.min(...times) : now - 3_600_000;
    const end = times.length ? Math.max(...times) + (panels[0].bucketMs() || 60_000) : now;
    return {start: new Date(start).toISOString(), end: new Date(end).toISOString()};
  }

  bindControls(form, {
    onChange: (next) => apply(next),
    onInvalid: (message) => showStatus(status, "error", message),
    suggestRange,
  });
  window.addEventListener("popstate", () => apply(readState(window.location.search, defaults), {push: false}));

  apply(readState(window.location.search, defaults), {push: false});
  return {zoom};
}

/** A status line under the form for its own problems (an incomplete custom range). */
function formStatus(form) {
  const status = document.createElement("p");
  status.className = "chart-status";
  status.dataset.formStatus = "";
  form.after(status);
  return status;
}
