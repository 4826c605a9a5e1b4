// One chart on a page (the chart page, or a dashboard panel): asks the results API for a state,
// shows loading / empty / error in [data-status], draws the chart in [data-chart], the data
// table in [data-table] and the run in [data-run-meta], and merges live updates in.

import * as groupby from "./charts/groupby.js";
import * as timeseries from "./charts/timeseries.js";
import * as topn from "./charts/topn.js";
import {renderTable, showStatus} from "./charts/common.js";
import {isRelative, resultsParams} from "./state.js";

const d3 = window.d3;

const CHARTS = {timeseries, topN: topn, groupBy: groupby};

/** The config a page passes with json_script, named by the element's data-config attribute. */
export function readConfig(element) {
  const script = document.getElementById(element.dataset.config);
  return JSON.parse(script.textContent);
}

/** An error the API (or the network) gave, with what to show. */
export class ResultError extends Error {
  constructor(message, {status = 0, fieldErrors = null} = {}) {
    super(message);
    this.status = status;
    this.fieldErrors = fieldErrors;
  }
}

/** GET the results; answers the parsed result, or throws a ResultError with the API's detail. */
export async function fetchResults(url, {signal} = {}) {
  let response;
  try {
    response = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}, signal});
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ResultError("The site could not be reached. Check your connection and try again.");
  }
  const body = await response.json().catch(() => null);
  if (response.ok && body && Array.isArray(body.rows)) return body;
  throw new ResultError(errorMessage(response, body), {status: response.status, fieldErrors: body?.errors});
}

function errorMessage(response, body) {
  const detail = body && (body.detail || body.error);
  if (response.status === 401 || response.status === 403) {
    return `${detail || "Not allowed."} Your session may have ended: log in again.`;
  }
  return detail ? String(detail) : `The site answered ${response.status} ${response.statusText}.`;
}

const formatRunAt = d3.utcFormat("%Y-%m-%d %H:%M:%S UTC");

/** "Ran at 2024-05-01 10:00:00 UTC in 12 ms, from Druid · 48 rows". */
export function runText(meta, rows) {
  const at = meta.run_at ? formatRunAt(new Date(meta.run_at)) : "just now";
  const source = meta.cached ? "from cache" : "from Druid";
  return `Ran at ${at} in ${meta.duration_ms} ms, ${source} · ${rows} row${rows === 1 ? "" : "s"}`;
}

export class ChartPanel {
  /**
   * root holds [data-status], [data-chart], [data-run-meta] and optionally [data-table];
   * options: height, onBrush(startIso, endIso, bucketMs), onDraw() after each draw or failure.
   */
  constructor(root, config, options = {}) {
    this.root = root;
    this.config = config;
    this.options = options;
    this.status = root.querySelector("[data-status]");
    this.chart = root.querySelector("[data-chart]");
    this.meta = root.querySelector("[data-run-meta]");
    this.table = root.querySelector("[data-table]");
    this.data = null;
    this.state = null;
    this.request = null;
    this.windowMs = null;
    this.redrawOnResize();
  }

  /** Query the state from scratch; `quiet` keeps the current chart up while it runs. */
  async load(state, {quiet = false} = {}) {
    this.state = state;
    const params = resultsParams(state);
    if (!quiet) showStatus(this.status, "loading", "Loading…");
    try {
      const result = await this.fetch(params);
      if (!result) return; // superseded by a newer request
      this.data = result;
      this.windowMs = intervalLength(result.meta?.interval);
      this.draw({animate: false});
    } catch (err) {
      this.fail(err, {keepChart: quiet});
    }
  }

  /**
   * A live update: ask only for buckets from the last one on (`since`), replace that possibly
   * partial bucket with the new answer, append the rest, and drop what fell out of a moving
   * window. One bucket for all time (granularity all) cannot be split, so it is re-run.
   */
  async refresh() {
    if (!this.state || this.request) return; // a query is still running: skip this beat
    if (!this.data || !this.data.rows.length || this.granularity() === "all") {
      await this.load(this.state, {quiet: true});
      return;
    }
    const since = lastTimestamp(this.data.rows);
    const params = resultsParams(this.state);
    params.set("since", since);
    try {
      const update = await this.fetch(params);
      if (!update) return;
      const relative = isRelative(this.state, this.config.interval);
      const end = Date.parse(String(update.meta?.interval || "").split("/")[1]);
      const windowStart = relative && this.windowMs && end ? end - this.windowMs : null;
      this.data = mergeRows(this.data, update, since, windowStart);
      this.draw({animate: true});
    } catch (err) {
      this.fail(err, {keepChart: true});
    }
  }

  granularity() {
    const chosen = this.state?.granularity || this.config.granularity;
    return typeof chosen === "string" ? chosen.toLowerCase() : "";
  }

  async fetch(params) {
    this.request?.abort();
    const request = new AbortController();
    this.request = request;
    try {
      return await fetchResults(`${this.config.resultsUrl}?${params}`, {signal: request.signal});
    } catch (err) {
      if (err.name === "AbortError") return null;
      throw err;
    } finally {
      if (this.request === request) this.request = null;
    }
  }

  draw({animate}) {
    const {data} = this;
    if (this.meta) this.meta.textContent = runText(data.meta || {}, data.rows.length);
    if (!data.rows.length) {
      showStatus(this.status, "empty", "No data in this range");
      this.chart.replaceChildren();
      this.showTable(null);
      this.options.onDraw?.();
      return;
    }
    showStatus(this.status, null);
    const chart = CHARTS[this.config.queryType] || timeseries;
    const drawn = chart.render(this.chart, data, {
      chartType: this.config.chartType,
      valueFormat: this.config.valueFormat,
      title: this.config.title,
      description: this.config.description,
      height: this.options.height,
      animate,
      onBrush: this.options.onBrush ? (start, end) => this.options.onBrush(start, end, this.bucketMs()) : null,
    });
    // When the chart is a table already, a second copy of it would only repeat it.
    this.showTable(drawn.table ? null : data);
    this.options.onDraw?.();
  }

  showTable(data) {
    if (!this.table) return;
    const section = this.table.closest("section") || this.table;
    section.hidden = !data;
    if (data) renderTable(this.table, data, {valueFormat: this.config.valueFormat, caption: this.config.title});
    else this.table.replaceChildren();
  }

  fail(err, {keepChart}) {
    showStatus(this.status, "error", err.message, err.fieldErrors);
    if (keepChart) return;
    this.data = null;
    this.chart.replaceChildren();
    this.showTable(null);
    if (this.meta) this.meta.textContent = "";
    this.options.onDraw?.();
  }

  /** The bucket length on screen, from the closest two timestamps (0 when unknown). */
  bucketMs() {
    return this.data ? bucketLength(this.data.rows) : 0;
  }

  /** The SVG to export (the first one: small multiples share a single SVG). */
  svg() {
    return this.chart.querySelector("svg");
  }

  redrawOnResize() {
    if (!window.ResizeObserver) return;
    let width = this.chart.clientWidth;
    let pending = null;
    new ResizeObserver(() => {
      if (Math.abs(this.chart.clientWidth - width) < 8 || !this.data?.rows.length) return;
      width = this.chart.clientWidth;
      clearTimeout(pending);
      pending = setTimeout(() => this.draw({animate: false}), 150);
    }).observe(this.chart);
  }
}

// -- live merging -------------------------------------------------------------------------------

function lastTimestamp(rows) {
  let last = rows[0][0];
  for (const row of rows) if (Date.parse(row[0]) > Date.parse(last)) last = row[0];
  return last;
}

function bucketLength(rows) {
  const times = [...new Set(rows.map((row) => Date.parse(row[0])))].sort((a, b) => a - b);
  let span = 0;
  for (let i = 1; i < times.length; i += 1) {
    const gap = times[i] - times[i - 1];
    if (gap > 0 && (!span || gap < span)) span = gap;
  }
  return span;
}

function intervalLength(interval) {
  const [start, end] = String(interval || "").split("/").map(Date.parse);
  return Number.isFinite(start) && Number.isFinite(end) ? end - start : null;
}

/**
 * Old rows before `since`, then every row of the update (it starts at the bucket holding
 * `since`, so that bucket is replaced whole), in the result's own time order; rows whose bucket
 * ends before `windowStart` are dropped so that a live chart keeps a bounded window.
 */
export function mergeRows(old, update, since, windowStart = null) {
  const cut = Date.parse(since);
  const descending = old.rows.length > 1 && Date.parse(old.rows[0][0]) > Date.parse(old.rows[old.rows.length - 1][0]);
  let rows = old.rows.filter((row) => Date.parse(row[0]) < cut).concat(update.rows);
  // A stable sort keeps the order inside a bucket (topN ranks, groupBy's limitSpec).
  rows.sort((a, b) => (descending ? -1 : 1) * (Date.parse(a[0]) - Date.parse(b[0])));
  if (windowStart !== null) {
    const span = bucketLength(rows);
    rows = rows.filter((row) => Date.parse(row[0]) + span > windowStart);
  }
  return {...update, columns: update.columns, rows};
}

// -- auto-refresh -------------------------------------------------------------------------------

/**
 * Calls `tick` every N seconds, one call at a time (the next waits for the last to finish), and
 * not at all while the tab is hidden: a hidden tab should not cost Druid anything. Showing the
 * tab again refreshes at once.
 */
export class Refresher {
  constructor(tick) {
    this.tick = tick;
    this.seconds = 0;
    this.timer = null;
    this.paused = false;
    document.addEventListener("visibilitychange", () => this.visibilityChanged());
  }

  set(seconds) {
    this.seconds = seconds;
    this.paused = false;
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.seconds > 0) this.timer = setTimeout(() => this.run(), this.seconds * 1000);
  }

  async run() {
    if (document.visibilityState === "hidden") {
      this.paused = true;
      return;
    }
    await this.tick();
    this.schedule();
  }

  visibilityChanged() {
    if (document.visibilityState === "visible" && this.paused && this.seconds > 0) {
      this.paused = false;
      this.run();
    }
  }
}
