// Bar drawing shared by the topN and groupBy charts: labelled horizontal bars (one panel per
// time bucket) and grouped columns. Labels are Druid values, written with .text().

import {dimensionLabel, seriesColor} from "./common.js";

const d3 = window.d3;

export const BAR = {height: 22, gap: 6, heading: 26, valueRoom: 72};

/** How wide the label column of a bar panel is: room for the longest label, within limits. */
export function labelWidth(labels, panelWidth) {
  const longest = d3.max(labels, (label) => label.length) || 4;
  return Math.round(Math.min(panelWidth * 0.4, Math.max(48, longest * 7.2 + 12)));
}

/** A label cut to fit `width` pixels (about 7 px a character at 12 px), with an ellipsis. */
export function fitLabel(label, width) {
  const room = Math.max(3, Math.floor(width / 7.2));
  return label.length > room ? `${label.slice(0, room - 1)}…` : label;
}

/**
 * One panel of horizontal bars at (left, top): items [{label, value}] in the order given,
 * a heading if any, the value at the end of each bar. The full label is in a <title> when it
 * had to be cut.
 */
export function barPanel(parent, items, {left, top, width, x, format, heading, labelColumn}) {
  const panel = parent.append("g").attr("class", "bar-panel").attr("transform", `translate(${left},${top})`);
  let y0 = 0;
  if (heading) {
    panel.append("text").attr("class", "panel-heading").attr("y", 16).text(heading);
    y0 = BAR.heading;
  }
  const scale = x.copy().range([0, Math.max(10, width - labelColumn - BAR.valueRoom)]);
  const rows = panel.selectAll("g.bar-row").data(items).join("g")
    .attr("class", "bar-row")
    .attr("transform", (d, i) => `translate(0,${y0 + i * (BAR.height + BAR.gap)})`);
  const labels = rows.append("text").attr("class", "bar-label")
    .attr("x", labelColumn - 8).attr("y", BAR.height / 2).attr("dy", "0.35em").attr("text-anchor", "end")
    .text((d) => fitLabel(d.label, labelColumn - 8));
  labels.filter((d) => fitLabel(d.label, labelColumn - 8) !== d.label)
    .append("title").text((d) => d.label);
  rows.append("rect").attr("class", "bar")
    .attr("x", (d) => labelColumn + Math.min(scale(0), scale(d.value ?? 0)))
    .attr("width", (d) => Math.abs(scale(d.value ?? 0) - scale(0)))
    .attr("height", BAR.height)
    .style("fill", seriesColor(0));
  rows.append("text").attr("class", "bar-value")
    .attr("x", (d) => labelColumn + Math.max(scale(0), scale(d.value ?? 0)) + 6)
    .attr("y", BAR.height / 2).attr("dy", "0.35em")
    .text((d) => format(d.value));
  return y0 + items.length * (BAR.height + BAR.gap);
}

/** The value scale bars share across panels, so that panels compare at a glance. */
export function valueScale(values) {
  const [low, high] = d3.extent(values.filter((v) => v !== null && v !== undefined));
  return d3.scaleLinear().domain([Math.min(0, low ?? 0), Math.max(0, high ?? 1) || 1]);
}

/**
 * Grouped columns: one group per time bucket, one column per key (a dimension value) inside
 * it, coloured by key. groups: [{heading, values: Map(key -> value)}].
 */
export function groupedColumns(plot, groups, keys, {width, height, format, colorOf}) {
  const x0 = d3.scaleBand().domain(groups.map((g) => g.heading)).range([0, width]).paddingInner(0.18);
  const x1 = d3.scaleBand().domain(keys).range([0, x0.bandwidth()]).padding(0.06);
  const values = groups.flatMap((g) => keys.map((k) => g.values.get(k) ?? 0));
  const y = valueScale(values).nice().range([height, 0]);
  plot.append("g").attr("class", "grid")
    .call(d3.axisLeft(y).ticks(5).tickSize(-width).tickFormat(""))
    .call((g) => g.select(".domain").remove());
  const cells = plot.append("g").selectAll("g").data(groups).join("g")
    .attr("class", "column-group")
    .attr("transform", (g) => `translate(${x0(g.heading)},0)`)
    .selectAll("rect").data((g) => keys.map((key) => ({key, value: g.values.get(key) ?? null, group: g})))
    .join("rect")
    .attr("class", "bar")
    .attr("x", (d) => x1(d.key))
    .attr("width", x1.bandwidth())
    .attr("y", (d) => Math.min(y(0), y(d.value ?? 0)))
    .attr("height", (d) => Math.abs(y(0) - y(d.value ?? 0)))
    .style("fill", (d) => colorOf(d.key));
  cells.append("title").text((d) => `${dimensionLabel(d.key)}, ${d.group.heading}: ${format(d.value)}`);
  const axisX = plot.append("g").attr("class", "axis axis-x").attr("transform", `translate(0,${height})`)
    .call(d3.axisBottom(x0).tickSizeOuter(0));
  // Long bucket headings would overlap: tilt them when the groups are narrow.
  if (x0.bandwidth() < 90) {
    axisX.selectAll("text").attr("text-anchor", "end").attr("transform", "rotate(-30)").attr("dx", "-0.4em");
  }
  plot.append("g").attr("class", "axis axis-y").call(d3.axisLeft(y).ticks(5).tickFormat(format));
}
