// The catalogue: a sparkline on each card, from the card's saved query as saved. A failure
// leaves a quiet "no preview" note in the card; it never breaks the page.

import {columnRoles} from "./charts/common.js";
import {fetchResults} from "./panel.js";

const d3 = window.d3;

const AT_ONCE = 3; // a page of cards should not fire a dozen Druid queries at the same moment
const MAX_BARS = 24;
const PAD = 3;

const sparklines = [...document.querySelectorAll("svg.sparkline[data-results-url]")];
runLimited(sparklines.map((svg) => () => drawSparkline(svg)), AT_ONCE);

async function drawSparkline(svg) {
  let summary = "no preview";
  try {
    const data = await fetchResults(svg.dataset.resultsUrl);
    const metric = columnRoles(data).metrics[0];
    if (!data.rows.length || !metric) {
      summary = data.rows.length ? "no preview" : "no data";
      noPreview(svg, summary);
    } else if (svg.dataset.queryType === "timeseries") {
      const points = data.rows.map((row) => [Date.parse(row[0]), row[metric.index]])
        .filter(([, value]) => value !== null);
      if (points.length) drawLine(svg, points);
      else noPreview(svg, "no data");
      summary = points.length ? `${metric.name} over ${points.length} time buckets` : "no data";
    } else {
      const values = data.rows.slice(0, MAX_BARS).map((row) => Number(row[metric.index]) || 0);
      drawBars(svg, values);
      summary = `${metric.name} of the first ${values.length} rows`;
    }
  } catch {
    noPreview(svg, summary);
  }
  describe(svg, summary);
}

/** <title> and <desc> like every chart SVG: the card's label, and what the preview shows. */
function describe(svg, text) {
  const root = d3.select(svg);
  root.insert("desc", ":first-child").text(`Preview: ${text}. Open the chart for the data.`);
  root.insert("title", ":first-child").text(svg.getAttribute("aria-label") || "Preview");
}

function size(svg) {
  return {width: svg.clientWidth || Number(svg.getAttribute("width")), height: Number(svg.getAttribute("height"))};
}

/** The first metric over time ([ms, value], no nulls), in currentColor (the series colour). */
function drawLine(svg, points) {
  const {width, height} = size(svg);
  const x = d3.scaleLinear().domain(d3.extent(points, (p) => p[0])).range([PAD, width - PAD]);
  const y = d3.scaleLinear().domain(d3.extent(points, (p) => Number(p[1]))).range([height - PAD, PAD]);
  const root = d3.select(svg).attr("viewBox", `0 0 ${width} ${height}`).attr("preserveAspectRatio", "none");
  if (points.length === 1) {
    // One bucket has no trend to draw: a dot says there is data.
    root.append("circle").attr("class", "spark-dot").attr("cx", width / 2).attr("cy", height / 2)
      .attr("r", 2.5).attr("fill", "currentColor");
    return;
  }
  const line = d3.line().x((p) => x(p[0])).y((p) => y(Number(p[1])));
  root.append("path").attr("class", "spark-line").attr("d", line(points))
    .attr("fill", "none").attr("stroke", "currentColor").attr("stroke-width", 1.5)
    .attr("vector-effect", "non-scaling-stroke");
}

/** Tiny bars of the first metric (topN and groupBy), in the result's order. */
function drawBars(svg, values) {
  const {width, height} = size(svg);
  const x = d3.scaleBand().domain(d3.range(values.length)).range([0, width]).padding(0.2);
  const y = d3.scaleLinear().domain([0, d3.max(values) || 1]).range([height - PAD, PAD]);
  d3.select(svg).attr("viewBox", `0 0 ${width} ${height}`).attr("preserveAspectRatio", "none")
    .selectAll("rect").data(values).join("rect").attr("class", "spark-bar")
    .attr("x", (v, i) => x(i)).attr("width", x.bandwidth())
    .attr("y", (v) => y(Math.max(0, v))).attr("height", (v) => y(0) - y(Math.max(0, v)))
    .attr("fill", "currentColor");
}

function noPreview(svg, text) {
  const {width, height} = size(svg);
  d3.select(svg).attr("viewBox", `0 0 ${width} ${height}`).append("text").attr("class", "no-preview")
    .attr("x", 4).attr("y", height / 2).attr("dy", "0.35em").text(text);
}

/** Run async jobs with at most `limit` in flight. */
async function runLimited(jobs, limit) {
  const queue = [...jobs];
  const worker = async () => {
    while (queue.length) await queue.shift()();
  };
  await Promise.all(Array.from({length: Math.min(limit, queue.length)}, worker));
}
