// Time series chart: line, area, stacked area or bars of every metric over time, with a legend
// that toggles series, a crosshair tooltip, and a brush that asks the page to zoom in.
// render(element, {columns, rows}, options) draws into element and returns {table: false}.

import {
  chartWidth, columnRoles, createSvg, formatTimestamp, legend, offsetMinutes, renderTableChart,
  seriesColor, timeTick, tooltip, uniqueId, valueFormatter, wallTime, zoneLabel,
} from "./common.js";

const d3 = window.d3;

const MARGIN = {top: 14, right: 18, bottom: 40, left: 60};
const DENSE = 150; // past this many buckets the per-bucket dots are kept but not drawn visibly

// What must survive a redraw of the same element: hidden series and the last drawn buckets.
const memory = new WeakMap();

/**
 * options: chartType (line | area | stacked-area | bar | table), valueFormat, title,
 * description, height, onBrush(startIso, endIso) to zoom, animate (true for live updates).
 */
export function render(element, data, options = {}) {
  if (options.chartType === "table") return renderTableChart(element, data, options);
  const state = memory.get(element) || {hidden: new Set(), times: null, lastWall: null};
  memory.set(element, state);
  const model = buildModel(data, state.hidden);
  const redraw = () => render(element, data, {...options, animate: false});

  element.replaceChildren();
  if (model.names.length > 1) {
    legend(element, model.names, {hidden: state.hidden, onToggle: redraw, label: "Metrics"});
  }
  const size = frameSize(element, options);
  const svg = createSvg(element, {
    width: size.width, height: size.height,
    title: options.title || "Time series",
    desc: describe(model, options),
  });
  const plot = svg.append("g").attr("transform", `translate(${MARGIN.left},${MARGIN.top})`);
  const scales = buildScales(model, size, options.chartType);
  drawAxes(plot, scales, size, model, options.valueFormat);

  const clipId = uniqueId("clip");
  // The clip leaves room for the dots on the edges; it hides what slides in during an update.
  plot.append("clipPath").attr("id", clipId)
    .append("rect").attr("x", -5).attr("y", -5)
    .attr("width", size.inner.width + 10).attr("height", size.inner.height + 10);
  const series = plot.append("g").attr("class", "series").attr("clip-path", `url(#${clipId})`);
  const drawn = DRAW[options.chartType] || DRAW.line;
  drawn(series, model, scales);
  drawPoints(series, model, scales, options.chartType);

  if (options.animate && state.lastWall) animateIn(series, model, scales, state);
  state.times = new Set(model.buckets.map((b) => b.iso));
  state.lastWall = model.buckets.length ? model.buckets[model.buckets.length - 1].wall : null;

  addInteraction(element, plot, model, scales, size, options);
  return {table: false};
}

// -- model --------------------------------------------------------------------------------------

/** Buckets (one per row, oldest first even for a descending query), and the series to draw. */
function buildModel(data, hidden) {
  const roles = columnRoles(data);
  const names = roles.metrics.map((m) => m.name);
  for (const name of [...hidden]) if (!names.includes(name)) hidden.delete(name);
  const visible = roles.metrics.filter((m) => !hidden.has(m.name));
  const buckets = data.rows.map((row) => {
    const values = {};
    for (const metric of roles.metrics) values[metric.name] = toNumber(row[metric.index]);
    return {iso: row[0], wall: wallTime(row[0]), values};
  }).sort((a, b) => a.wall - b.wall);
  const offset = buckets.length ? offsetMinutes(buckets[0].iso) : 0;
  return {names, visible, buckets, offset, rowCount: data.rows.length};
}

function toNumber(value) {
  if (value === null || value === undefined || value === "") return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}

function frameSize(element, options) {
  const width = chartWidth(element);
  const height = options.height || 320;
  return {
    width, height,
    inner: {width: width - MARGIN.left - MARGIN.right, height: height - MARGIN.top - MARGIN.bottom},
  };
}

function describe(model, options) {
  const {buckets, visible} = model;
  if (!buckets.length) return "No data.";
  const first = formatTimestamp(buckets[0].iso);
  const last = formatTimestamp(buckets[buckets.length - 1].iso);
  const kind = {area: "Area", "stacked-area": "Stacked area", bar: "Bar"}[options.chartType] || "Line";
  return `${kind} chart of ${visible.map((m) => m.name).join(", ")} over ${buckets.length} ` +
    `time buckets from ${first} to ${last}. The data table below lists every value.`;
}

// -- scales and axes ----------------------------------------------------------------------------

/** One bucket's typical width in ms, from the closest pair of buckets (0 for one bucket). */
function bucketSpan(buckets) {
  let span = Infinity;
  for (let i = 1; i < buckets.length; i += 1) {
    const gap = buckets[i].wall - buckets[i - 1].wall;
    if (gap > 0 && gap < span) span = gap;
  }
  return Number.isFinite(span) ? span : 0;
}

function buildScales(model, size, chartType) {
  const {buckets, visible} = model;
  const span = bucketSpan(buckets) || 3_600_000;
  let [start, end] = d3.extent(buckets, (b) => b.wall);
  if (chartType === "bar" || +start === +end) {
    // Bars need room for the first and last bucket; a single point needs some range around it.
    start = new Date(+start - span / 2);
    end = new Date(+end + span / 2);
  }
  const x = d3.scaleUtc().domain([start, end]).range([0, size.inner.width]);
  const top = chartType === "stacked-area"
    ? d3.max(buckets, (b) => d3.sum(visible, (m) => b.values[m.name] ?? 0))
    : d3.max(buckets, (b) => d3.max(visible, (m) => b.values[m.name]));
  const bottom = chartType === "stacked-area"
    ? 0
    : Math.min(0, d3.min(buckets, (b) => d3.min(visible, (m) => b.values[m.name])) ?? 0);
  const y = d3.scaleLinear().domain([bottom, top || 1]).nice().range([size.inner.height, 0]);
  return {x, y, span};
}

function drawAxes(plot, {x, y, span}, size, model, valueFormat) {
  // No more time ticks than buckets: minutes of data should not get ticks every 15 seconds.
  const [start, end] = x.domain();
  const buckets = model.buckets.length > 1 ? Math.round((end - start) / span) + 1 : Infinity;
  const ticksX = Math.max(2, Math.min(Math.floor(size.inner.width / 110), buckets));
  const ticksY = Math.max(2, Math.floor(size.inner.height / 45));
  plot.append("g").attr("class", "grid")
    .call(d3.axisLeft(y).ticks(ticksY).tickSize(-size.inner.width).tickFormat(""))
    .call((g) => g.select(".domain").remove());
  plot.append("g").attr("class", "axis axis-x")
    .attr("transform", `translate(0,${size.inner.height})`)
    .call(d3.axisBottom(x).ticks(ticksX).tickFormat(timeTick));
  const format = valueFormat ? valueFormatter(valueFormat) : d3.format("~s");
  plot.append("g").attr("class", "axis axis-y").call(d3.axisLeft(y).ticks(ticksY).tickFormat(format));
  plot.append("text").attr("class", "axis-label")
    .attr("x", size.inner.width).attr("y", size.inner.height + 34).attr("text-anchor", "end")
    .text(`Time (${zoneLabel(model.offset)})`);
}

// -- series -------------------------------------------------------------------------------------

function lineOf(name, {x, y}) {
  return d3.line()
    .defined((b) => b.values[name] !== null)
    .x((b) => x(b.wall))
    .y((b) => y(b.values[name]));
}

function drawLines(group, model, scales) {
  for (const metric of model.visible) {
    const index = model.names.indexOf(metric.name);
    group.append("path")
      .attr("class", "series-line")
      .attr("data-series", metric.name)
      .attr("data-points", model.rowCount)
      .attr("d", lineOf(metric.name, scales)(model.buckets))
      .style("stroke", seriesColor(index));
  }
}

function drawAreas(group, model, scales) {
  const {x, y} = scales;
  for (const metric of model.visible) {
    const index = model.names.indexOf(metric.name);
    const area = d3.area()
      .defined((b) => b.values[metric.name] !== null)
      .x((b) => x(b.wall)).y0(y(0)).y1((b) => y(b.values[metric.name]));
    group.append("path").attr("class", "series-area")
      .attr("d", area(model.buckets)).style("fill", seriesColor(index));
  }
  drawLines(group, model, scales);
}

function stackOf(model) {
  return d3.stack()
    .keys(model.visible.map((m) => m.name))
    .value((bucket, name) => bucket.values[name] ?? 0)(model.buckets);
}

function drawStacked(group, model, {x, y}) {
  for (const layer of stackOf(model)) {
    const index = model.names.indexOf(layer.key);
    const color = seriesColor(index);
    const area = d3.area().x((d) => x(d.data.wall)).y0((d) => y(d[0])).y1((d) => y(d[1]));
    const top = d3.line().x((d) => x(d.data.wall)).y((d) => y(d[1]));
    group.append("path").attr("class", "series-area stacked").attr("d", area(layer)).style("fill", color);
    group.append("path").attr("class", "series-line")
      .attr("data-series", layer.key).attr("data-points", model.rowCount)
      .attr("d", top(layer)).style("stroke", color);
  }
}

function drawBars(group, model, {x, y, span}) {
  const slot = Math.max(1, (x(new Date(span)) - x(new Date(0))) * 0.8);
  const width = Math.max(1, slot / model.visible.length);
  model.visible.forEach((metric, n) => {
    const index = model.names.indexOf(metric.name);
    group.append("g").attr("class", "series-bars")
      .attr("data-series", metric.name).attr("data-points", model.rowCount)
      .style("fill", seriesColor(index))
      .selectAll("rect")
      .data(model.buckets.filter((b) => b.values[metric.name] !== null))
      .join("rect")
      .attr("class", "bar")
      .attr("x", (b) => x(b.wall) - slot / 2 + n * width)
      .attr("width", Math.max(1, width - 1))
      .attr("y", (b) => Math.min(y(0), y(b.values[metric.name])))
      .attr("height", (b) => Math.abs(y(0) - y(b.values[metric.name])));
  });
}

const DRAW = {line: drawLines, area: drawAreas, "stacked-area": drawStacked, bar: drawBars};

/** One <circle class="point"> per bucket and series (at the top of its layer when stacked). */
function drawPoints(group, model, {x, y}, chartType) {
  const stacked = chartType === "stacked-area" ? new Map(stackOf(model).map((l) => [l.key, l])) : null;
  const radius = model.buckets.length > DENSE || chartType === "bar" ? 0 : 3;
  for (const metric of model.visible) {
    const index = model.names.indexOf(metric.name);
    const points = model.buckets
      .map((bucket, i) => ({bucket, value: stacked ? stacked.get(metric.name)[i][1] : bucket.values[metric.name]}))
      .filter((p) => p.value !== null);
    group.append("g").attr("class", "points").attr("data-series", metric.name)
      .style("fill", seriesColor(index))
      .selectAll("circle").data(points).join("circle")
      .attr("class", "point")
      .attr("data-time", (p) => p.bucket.iso)
      .attr("cx", (p) => x(p.bucket.wall))
      .attr("cy", (p) => y(p.value))
      .attr("r", radius);
  }
}

/**
 * Live updates slide the series left by the room new buckets take, from where the previous
 * last bucket was drawn, and grow the new points in: the eye follows what changed.
 */
function animateIn(series, model, {x}, state) {
  const shift = x.range()[1] - x(state.lastWall);
  if (shift > 0 && Number.isFinite(shift)) {
    series.attr("transform", `translate(${shift},0)`)
      .transition().duration(600).ease(d3.easeCubicOut).attr("transform", null);
  }
  series.selectAll("circle.point")
    .filter(function isNew() { return !state.times.has(this.getAttribute("data-time")); })
    .classed("entering", true)
    .each(function grow() {
      const target = this.getAttribute("r");
      d3.select(this).attr("r", 0).transition().delay(300).duration(500).attr("r", target);
    });
}

// -- crosshair, tooltip and brush ---------------------------------------------------------------

function addInteraction(element, plot, model, scales, size, options) {
  if (!model.buckets.length) return;
  const {x, y} = scales;
  const tip = tooltip(element);
  const format = valueFormatter(options.valueFormat);
  const cross = plot.append("g").attr("class", "crosshair").attr("display", "none");
  cross.append("line").attr("y1", 0).attr("y2", size.inner.height);
  const bisect = d3.bisector((b) => b.wall).center;

  const layer = plot.append("g").attr("class", "brush");
  if (options.onBrush && model.buckets.length > 1) {
    const brush = d3.brushX()
      .extent([[0, 0], [size.inner.width, size.inner.height]])
      .on("end", (event) => brushed(event, brush, layer, x, model.offset, options.onBrush));
    layer.call(brush);
  } else {
    // Without a brush, a transparent rect still catches the pointer for the crosshair.
    layer.append("rect").attr("class", "overlay")
      .attr("width", size.inner.width).attr("height", size.inner.height)
      .attr("fill", "none").attr("pointer-events", "all");
  }

  layer.on("pointermove.crosshair", (event) => {
    const [px] = d3.pointer(event, plot.node());
    const bucket = model.buckets[bisect(model.buckets, x.invert(px))];
    const cx = x(bucket.wall);
    cross.attr("display", null).attr("transform", `translate(${cx},0)`);
    const lines = model.visible.map((metric) => ({
      label: metric.name,
      value: format(bucket.values[metric.name]),
      color: seriesColor(model.names.indexOf(metric.name)),
    }));
    const top = d3.min(model.visible, (m) => (bucket.values[m.name] === null ? null : y(bucket.values[m.name])));
    tip.show(formatTimestamp(bucket.iso), lines, [cx + MARGIN.left, (top ?? size.inner.height / 2) + MARGIN.top]);
  });
  layer.on("pointerleave.crosshair", () => {
    cross.attr("display", "none");
    tip.hide();
  });
}

/** A finished brush: hand the chosen range (real instants, not wall times) to the page. */
function brushed(event, brush, layer, x, offset, onBrush) {
  if (!event.sourceEvent || !event.selection) return; // our own clearing, or a plain click
  const [left, right] = event.selection;
  layer.call(brush.move, null);
  if (right - left < 4) return;
  const toIso = (px) => new Date(+x.invert(px) - offset * 60_000).toISOString();
  onBrush(toIso(left), toIso(right));
}
