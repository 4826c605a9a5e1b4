// Chart export: the chart's SVG as a standalone file (computed colours and fonts inlined, since
// the page's CSS variables do not travel with it), or as a PNG drawn through a canvas.

const SVG_NS = "http://www.w3.org/2000/svg";
const STYLE_PROPS = [
  "fill", "fill-opacity", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray",
  "opacity", "font-family", "font-size", "font-weight", "display",
];
const LEGEND_ROW = 24;

/** Download the chart as an .svg file. */
export function exportSvg(svg, {filename, legend}) {
  const {text} = standaloneSvg(svg, legend);
  download(new Blob([text], {type: "image/svg+xml;charset=utf-8"}), `${filename}.svg`);
}

/** Download the chart as a .png file at twice its size (sharp on high-density screens). */
export async function exportPng(svg, {filename, legend, scale = 2}) {
  const {text, width, height} = standaloneSvg(svg, legend);
  const url = URL.createObjectURL(new Blob([text], {type: "image/svg+xml;charset=utf-8"}));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const context = canvas.getContext("2d");
    context.scale(scale, scale);
    context.drawImage(image, 0, 0, width, height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    download(blob, `${filename}.png`);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * A copy of the SVG that stands alone: every element's computed paint and font inlined, a
 * background in the page's colour, the legend (HTML on the page) drawn in, and the
 * interactive layers (brush, crosshair) left out.
 */
export function standaloneSvg(svg, legend = []) {
  const copy = svg.cloneNode(true);
  inlineStyles(svg, copy);
  copy.querySelectorAll(".brush, .crosshair").forEach((node) => node.remove());
  const width = Number(svg.getAttribute("width"));
  let height = Number(svg.getAttribute("height"));
  if (legend.length) {
    drawLegend(copy, legend, height);
    height += LEGEND_ROW;
  }
  copy.setAttribute("xmlns", SVG_NS);
  copy.setAttribute("height", height);
  copy.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const background = document.createElementNS(SVG_NS, "rect");
  background.setAttribute("width", "100%");
  background.setAttribute("height", "100%");
  background.setAttribute("fill", getComputedStyle(document.body).backgroundColor);
  copy.querySelector("desc").after(background);
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(copy)}`;
  return {text, width, height};
}

function inlineStyles(source, target) {
  const computed = getComputedStyle(source);
  const style = STYLE_PROPS.map((prop) => `${prop}:${computed.getPropertyValue(prop)}`).join(";");
  target.setAttribute("style", style);
  for (let i = 0; i < source.children.length; i += 1) inlineStyles(source.children[i], target.children[i]);
}

/** The page's legend entries [{label, color}] as a row of swatches under the chart. */
function drawLegend(svg, entries, top) {
  const group = document.createElementNS(SVG_NS, "g");
  group.setAttribute("transform", `translate(12,${top + 6})`);
  let x = 0;
  for (const {label, color} of entries) {
    const swatch = document.createElementNS(SVG_NS, "rect");
    Object.entries({x, y: 0, width: 11, height: 11, fill: color}).forEach(([k, v]) => swatch.setAttribute(k, v));
    const text = document.createElementNS(SVG_NS, "text");
    Object.entries({x: x + 16, y: 10, "font-size": 12, "font-family": "sans-serif",
      fill: getComputedStyle(document.body).color}).forEach(([k, v]) => text.setAttribute(k, v));
    text.textContent = label;
    group.append(swatch, text);
    x += 28 + label.length * 7;
  }
  svg.append(group);
}

/** The shown legend entries of a chart element, with their computed colours. */
export function legendEntries(chart) {
  return [...chart.querySelectorAll(".legend button[aria-pressed='true']")].map((button) => ({
    label: button.textContent.trim(),
    color: getComputedStyle(button.querySelector(".swatch")).backgroundColor,
  }));
}

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // Give the browser a moment to start the download before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
