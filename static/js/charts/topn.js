// topN chart: horizontal bars of the query's metric, largest first (or as the metric spec
// orders them), one small multiple per time bucket when the granularity splits time.
// render(element, {columns, rows, meta}, options) draws into element and returns {table}.

import {barPanel, BAR, labelWidth, valueScale} from "./bars.js";
import {
  chartWidth, columnRoles, createSvg, dimensionLabel, distinctTimes, formatTimestamp, note,
  renderTableChart, valueFormatter,
} from "./common.js";

const d3 = window.d3;

const MAX_PANELS = 12; // beyond this the latest buckets are drawn; the table has every one
const PANEL_MIN_WIDTH = 300;

/** options: chartType, valueFormat, title, description. */
export function render(element, data, options = {}) {
  if (options.chartType === "table") return renderTableChart(element, data, options);
  element.replaceChildren();
  const roles = columnRoles(data);
  const dimension = roles.dimensions[0];
  const order = sortOrder(data.meta?.druid_query?.metric);
  const metric = roles.metrics.find((m) => m.name === order?.name) || roles.metrics[0];
  if (!dimension || !metric) {
    note(element, "This topN result has no dimension or metric to draw; the table lists it.");
    return {table: false};
  }
  const buckets = distinctTimes(data);
  const shown = buckets.slice(-MAX_PANELS);
  const panels = shown.map((time) => ({
    time,
    items: itemsOf(data.rows.filter((row) => row[0] === time), dimension, metric, order),
  }));
  draw(element, panels, metric, {...options, several: buckets.length > 1});
  if (buckets.length > shown.length) {
    note(element, `Showing the latest ${shown.length} of ${buckets.length} time buckets; the table lists all of them.`);
  }
  return {table: false};
}

/**
 * How Druid ordered the result, from the query's metric spec: a name or `numeric` (largest
 * first), `inverted` (smallest first), or a dimension ordering (keep Druid's order: null).
 */
export function sortOrder(spec) {
  if (typeof spec === "string") return {name: spec, ascending: false};
  if (!spec || typeof spec !== "object") return null;
  if (spec.type === "inverted") {
    const inner = sortOrder(spec.metric);
    return inner && {...inner, ascending: !inner.ascending};
  }
  if (spec.type === "numeric") return sortOrder(spec.metric);
  return null;
}

function itemsOf(rows, dimension, metric, order) {
  const items = rows.map((row) => ({
    label: dimensionLabel(row[dimension.index]),
    value: row[metric.index] === null ? null : Number(row[metric.index]),
  }));
  if (order && order.name === metric.name) {
    // A stable sort keeps Druid's tie order (ascending dimension value).
    const sign = order.ascending ? 1 : -1;
    items.sort((a, b) => sign * ((a.value ?? -Infinity) - (b.value ?? -Infinity)));
  }
  return items;
}

function draw(element, panels, metric, options) {
  const width = chartWidth(element);
  const columns = Math.max(1, Math.min(panels.length, Math.floor(width / PANEL_MIN_WIDTH)));
  const panelWidth = Math.floor(width / columns);
  const longest = d3.max(panels, (p) => p.items.length) || 0;
  const panelHeight = (options.several ? BAR.heading : 0) + longest * (BAR.height + BAR.gap) + 8;
  const rowsOfPanels = Math.ceil(panels.length / columns);
  const height = Math.max(40, rowsOfPanels * panelHeight + 4);
  const svg = createSvg(element, {
    width, height,
    title: options.title || "Top values",
    desc: describe(panels, metric, options),
  });
  const x = valueScale(panels.flatMap((p) => p.items.map((i) => i.value)));
  const format = valueFormatter(options.valueFormat);
  const labelColumn = labelWidth(panels.flatMap((p) => p.items.map((i) => i.label)), panelWidth);
  panels.forEach((panel, n) => {
    barPanel(svg, panel.items, {
      left: (n % columns) * panelWidth,
      top: Math.floor(n / columns) * panelHeight + 2,
      width: panelWidth - 12,
      x, format, labelColumn,
      heading: options.several ? formatTimestamp(panel.time) : "",
    });
  });
}

function describe(panels, metric, options) {
  const what = `Horizontal bars of ${metric.name}`;
  if (!options.several) {
    const labels = panels[0]?.items.map((i) => i.label) ?? [];
    return `${what}, ${labels.length} values in order: ${labels.join(", ")}. The data table below lists every value.`;
  }
  return `${what}, one panel per time bucket (${panels.length} shown). The data table below lists every value.`;
}
