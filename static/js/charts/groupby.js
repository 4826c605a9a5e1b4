// groupBy chart: the sortable table, or bars when the result is one dimension and one metric
// (horizontal bars for one time bucket, grouped columns per bucket for several).
// render(element, {columns, rows}, options) draws into element and returns {table}.

import {BAR, barPanel, groupedColumns, labelWidth, valueScale} from "./bars.js";
import {
  chartWidth, columnRoles, createSvg, dimensionLabel, distinctTimes, formatTimestamp, legend,
  note, offsetMinutes, renderTableChart, seriesColor, valueFormatter, zoneLabel,
} from "./common.js";

const MAX_BARS = 50; // one bucket: more values than this read better in the table
const MAX_KEYS = 8; // several buckets: one colour per value, and there are 8 colours
const MARGIN = {top: 12, right: 12, bottom: 56, left: 60};

const memory = new WeakMap(); // hidden legend entries, kept across redraws of an element

/** options: chartType, valueFormat, title, description, height. */
export function render(element, data, options = {}) {
  const roles = columnRoles(data);
  const barsFit = roles.dimensions.length === 1 && roles.metrics.length === 1;
  if (options.chartType === "table" || !barsFit) return renderTableChart(element, data, options);
  element.replaceChildren();
  const dimension = roles.dimensions[0];
  const metric = roles.metrics[0];
  const times = distinctTimes(data);
  if (times.length <= 1) drawBars(element, data, dimension, metric, options);
  else drawGroups(element, data, times, dimension, metric, options);
  return {table: false};
}

/** One bucket: horizontal bars in the result's order (its limitSpec decides it). */
function drawBars(element, data, dimension, metric, options) {
  const items = data.rows.slice(0, MAX_BARS).map((row) => ({
    label: dimensionLabel(row[dimension.index]),
    value: row[metric.index] === null ? null : Number(row[metric.index]),
  }));
  const width = chartWidth(element);
  const height = items.length * (BAR.height + BAR.gap) + 8;
  const svg = createSvg(element, {
    width, height,
    title: options.title || "Grouped values",
    desc: `Horizontal bars of ${metric.name} by ${dimension.name}: ${items.map((i) => i.label).join(", ")}. ` +
      "The data table below lists every value.",
  });
  barPanel(svg, items, {
    left: 0, top: 2, width,
    x: valueScale(items.map((i) => i.value)),
    format: valueFormatter(options.valueFormat),
    labelColumn: labelWidth(items.map((i) => i.label), width),
  });
  if (data.rows.length > items.length) {
    note(element, `Showing the first ${items.length} of ${data.rows.length} rows; the table lists all of them.`);
  }
}

/** Several buckets: grouped columns, one colour per dimension value (the largest 8). */
function drawGroups(element, data, times, dimension, metric, options) {
  const totals = new Map();
  for (const row of data.rows) {
    const key = dimensionLabel(row[dimension.index]);
    totals.set(key, (totals.get(key) || 0) + (Number(row[metric.index]) || 0));
  }
  const keys = [...totals.keys()].sort((a, b) => totals.get(b) - totals.get(a)).slice(0, MAX_KEYS);
  const hidden = memory.get(element) || new Set();
  memory.set(element, hidden);
  legend(element, keys, {
    hidden, label: dimension.name,
    onToggle: () => render(element, data, options),
  });
  const visibleKeys = keys.filter((k) => !hidden.has(k));
  const groups = times.map((time) => ({
    heading: formatTimestamp(time, {zone: false}),
    values: new Map(data.rows.filter((row) => row[0] === time)
      .map((row) => [dimensionLabel(row[dimension.index]), row[metric.index] === null ? null : Number(row[metric.index])])),
  }));
  const width = chartWidth(element);
  const height = options.height || 320;
  const svg = createSvg(element, {
    width, height,
    title: options.title || "Grouped values over time",
    desc: `Grouped columns of ${metric.name} by ${dimension.name} for ${times.length} time buckets ` +
      `(${zoneLabel(offsetMinutes(times[0]))}). ` +
      "The data table below lists every value.",
  });
  const plot = svg.append("g").attr("transform", `translate(${MARGIN.left},${MARGIN.top})`);
  groupedColumns(plot, groups, visibleKeys, {
    width: width - MARGIN.left - MARGIN.right,
    height: height - MARGIN.top - MARGIN.bottom,
    format: valueFormatter(options.valueFormat),
    colorOf: (key) => seriesColor(keys.indexOf(key)),
  });
  if (totals.size > keys.length) {
    note(element, `Showing the ${keys.length} largest of ${totals.size} values of ${dimension.name}; the table lists all of them.`);
  }
}
