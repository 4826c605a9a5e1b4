// Chart helpers shared by the chart modules: columns, times and zones, number formats, colours,
// the SVG frame, legend, tooltip, status messages and the sortable data table.
// Everything from Druid is written with .text() (or textContent), never as HTML.

const d3 = window.d3;

const SERIES_COUNT = 8;
const SVG_NS = "http://www.w3.org/2000/svg";

// -- columns ------------------------------------------------------------------------------------

const NUMERIC = new Set(["long", "double"]);

/** Split a result's columns into the time column, dimensions (strings) and metrics (numbers). */
export function columnRoles(data) {
  const roles = {time: null, dimensions: [], metrics: []};
  data.columns.forEach((column, index) => {
    const entry = {...column, index};
    if (column.type === "time") roles.time = entry;
    else if (NUMERIC.has(column.type)) roles.metrics.push(entry);
    else roles.dimensions.push(entry);
  });
  return roles;
}

/** The distinct timestamps of the rows, in order of appearance. */
export function distinctTimes(data) {
  return [...new Set(data.rows.map((row) => row[0]))];
}

// -- time and zones -----------------------------------------------------------------------------

const OFFSET = /(Z|[+-]\d{2}:?\d{2})$/;

/** Minutes east of UTC that an ISO timestamp carries ("Z" and no offset are 0). */
export function offsetMinutes(iso) {
  const match = OFFSET.exec(String(iso));
  if (!match || match[1] === "Z") return 0;
  const digits = match[1].replace(":", "");
  const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
  return digits[0] === "-" ? -minutes : minutes;
}

/** "UTC", or "UTC+05:30" for a zone offset in minutes. */
export function zoneLabel(minutes) {
  if (!minutes) return "UTC";
  const sign = minutes < 0 ? "−" : "+";
  const abs = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/**
 * A timestamp as a Date shifted to the wall-clock time of its own offset. Charts use UTC scales
 * on these, so a zone's buckets (midnights, hours) land on round ticks and read as Druid
 * printed them, whatever zone the browser is in.
 */
export function wallTime(iso) {
  return new Date(Date.parse(iso) + offsetMinutes(iso) * 60_000);
}

const formatWall = d3.utcFormat("%Y-%m-%d %H:%M:%S");
const formatWallMinute = d3.utcFormat("%Y-%m-%d %H:%M");

/** A timestamp for people: its wall-clock time (and zone), seconds only when they matter. */
export function formatTimestamp(iso, {zone = true} = {}) {
  const wall = wallTime(iso);
  const text = wall.getUTCSeconds() ? formatWall(wall) : formatWallMinute(wall);
  return zone ? `${text} ${zoneLabel(offsetMinutes(iso))}` : text;
}

const TICKS = {
  millisecond: d3.utcFormat(".%L"),
  second: d3.utcFormat(":%S"),
  minute: d3.utcFormat("%H:%M"),
  day: d3.utcFormat("%b %d"),
  month: d3.utcFormat("%b"),
  year: d3.utcFormat("%Y"),
};

/**
 * Time axis labels for wall-clock dates, 24-hour like Druid's timestamps: each tick says only
 * what changed at it (a new day shows the date, a new hour the time), so the labels adapt
 * from seconds to years with the range shown.
 */
export function timeTick(date) {
  if (d3.utcSecond(date) < date) return TICKS.millisecond(date);
  if (d3.utcMinute(date) < date) return TICKS.second(date);
  if (d3.utcDay(date) < date) return TICKS.minute(date);
  if (d3.utcMonth(date) < date) return TICKS.day(date);
  if (d3.utcYear(date) < date) return TICKS.month(date);
  return TICKS.year(date);
}

// -- numbers ------------------------------------------------------------------------------------

const plainInteger = d3.format(",");
const plainLarge = d3.format(",.0f");
const plainSmall = d3.format(",.4~g");

/** A value formatter from the saved d3-format specifier, or a readable default. */
export function valueFormatter(specifier) {
  let custom = null;
  if (specifier) {
    try {
      custom = d3.format(specifier);
    } catch {
      custom = null; // a bad specifier falls back to the default rather than breaking the chart
    }
  }
  return (value) => {
    if (value === null || value === undefined || value === "") return "–";
    const number = Number(value);
    if (!Number.isFinite(number)) return String(value);
    if (custom) return custom(number);
    if (Number.isInteger(number)) return plainInteger(number);
    return Math.abs(number) >= 1000 ? plainLarge(number) : plainSmall(number);
  };
}

/** A dimension value as shown: Druid's null and "" both read as "(null)". */
export function dimensionLabel(value) {
  return value === null || value === undefined || value === "" ? "(null)" : String(value);
}

// -- colours ------------------------------------------------------------------------------------

/** The n-th series colour, as a CSS variable so that dark mode switches it live. */
export function seriesColor(index) {
  return `var(--series-${(index % SERIES_COUNT) + 1})`;
}

// -- layout -------------------------------------------------------------------------------------

/** The width to draw at: the element's own width, or a sane default before layout. */
export function chartWidth(element, fallback = 720) {
  const width = element.clientWidth || element.getBoundingClientRect().width;
  return Math.max(280, Math.floor(width || fallback));
}

/**
 * A fresh <svg role="img"> with <title> and <desc> first (screen readers and exports read
 * them), sized with a viewBox so it scales down on narrow screens.
 */
export function createSvg(parent, {width, height, title, desc}) {
  const svg = d3.select(parent).append("svg")
    .attr("xmlns", SVG_NS)
    .attr("role", "img")
    .attr("width", width)
    .attr("height", height)
    .attr("viewBox", `0 0 ${width} ${height}`);
  const id = uniqueId("chart");
  svg.attr("aria-labelledby", `${id}-title ${id}-desc`);
  svg.append("title").attr("id", `${id}-title`).text(title || "Chart");
  svg.append("desc").attr("id", `${id}-desc`).text(desc || "");
  return svg;
}

let counter = 0;
export function uniqueId(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

// -- legend -------------------------------------------------------------------------------------

/**
 * A legend of toggle buttons (aria-pressed), one per series. `hidden` is a Set of names that
 * the caller keeps between renders; `onToggle` redraws.
 */
export function legend(element, names, {hidden, onToggle, label = "Series"}) {
  const list = d3.select(element).append("ul")
    .attr("class", "legend")
    .attr("aria-label", `${label}: press to show or hide`);
  const items = list.selectAll("li").data(names).join("li");
  const buttons = items.append("button")
    .attr("type", "button")
    .attr("aria-pressed", (name) => String(!hidden.has(name)))
    .attr("data-series", (name) => name)
    .on("click", (event, name) => {
      if (hidden.has(name)) hidden.delete(name);
      else if (hidden.size < names.length - 1) hidden.add(name); // keep one series visible
      onToggle(name);
      // The redraw replaced the legend: give the focus back to the same button.
      const again = [...element.querySelectorAll(".legend button")].find((b) => b.dataset.series === name);
      again?.focus();
    });
  buttons.append("span")
    .attr("class", "swatch")
    .attr("aria-hidden", "true")
    .style("background", (name) => seriesColor(names.indexOf(name)));
  buttons.append("span").text((name) => name);
  return list;
}

// -- tooltip ------------------------------------------------------------------------------------

/** A tooltip <div> inside the (position: relative) chart element; lines are [label, value]. */
export function tooltip(element) {
  const tip = d3.select(element).append("div")
    .attr("class", "tooltip")
    .attr("role", "presentation")
    .attr("hidden", "");
  return {
    show(heading, lines, [left, top]) {
      tip.attr("hidden", null).selectAll("*").remove();
      tip.append("strong").text(heading);
      for (const {label, value, color} of lines) {
        const line = tip.append("div").attr("class", "tooltip-line");
        if (color) line.append("span").attr("class", "swatch").style("background", color);
        line.append("span").text(`${label}: `);
        line.append("b").text(value);
      }
      // Keep the box inside the chart: flip to the left of the pointer past the middle.
      const box = tip.node();
      const flip = left > element.clientWidth / 2;
      tip.style("left", `${flip ? left - box.offsetWidth - 12 : left + 12}px`)
        .style("top", `${Math.max(0, top - box.offsetHeight / 2)}px`);
    },
    hide() {
      tip.attr("hidden", "");
    },
  };
}

// -- status -------------------------------------------------------------------------------------

/**
 * The panel's status line: "loading", "empty", "error" (role=alert so it is announced), or
 * nothing. Field errors from the API come as {field: [messages]} and are listed under it.
 */
export function showStatus(element, kind, message = "", fieldErrors = null) {
  if (!element) return;
  element.className = `chart-status${kind ? ` ${kind}` : ""}`;
  element.setAttribute("role", kind === "error" ? "alert" : "status");
  element.replaceChildren();
  if (!kind) return;
  const text = document.createElement("span");
  text.textContent = message;
  element.append(text);
  const lines = errorLines(fieldErrors);
  if (lines.length) {
    const list = document.createElement("ul");
    for (const line of lines) {
      const item = document.createElement("li");
      item.textContent = line;
      list.append(item);
    }
    element.append(list);
  }
}

function errorLines(errors, prefix = "") {
  if (!errors || typeof errors !== "object") return errors ? [`${prefix}${errors}`] : [];
  if (Array.isArray(errors)) {
    return errors.flatMap((entry) => (typeof entry === "object" ? errorLines(entry, prefix) : [`${prefix}${entry}`]));
  }
  return Object.entries(errors).flatMap(([field, value]) => errorLines(value, `${field}: `));
}

/** The chart as a table (chart type "table", or a result bars cannot show), scrolling inside. */
export function renderTableChart(element, data, options) {
  // Redraws reuse the wrapper, so that the table keeps the order the user chose.
  let wrap = element.querySelector(":scope > .table-wrap");
  if (!wrap || element.children.length > 1) {
    element.replaceChildren();
    wrap = document.createElement("div");
    wrap.className = "table-wrap";
    element.append(wrap);
  }
  renderTable(wrap, data, {valueFormat: options.valueFormat, caption: options.title});
  return {table: true};
}

/** A quiet note drawn inside an element (e.g. a chart type that has nothing to plot). */
export function note(element, text) {
  d3.select(element).append("p").attr("class", "chart-note muted").text(text);
}

// -- the data table -----------------------------------------------------------------------------

const TABLE_ROW_LIMIT = 1000;
const tableSorts = new WeakMap();

/**
 * A sortable table of the whole result: the chart's text alternative and groupBy's own view.
 * Headers are buttons; aria-sort says the current order. Very long results show their first
 * rows only (the CSV download has all of them), so that a month of minutes does not freeze
 * the page.
 */
export function renderTable(container, data, {valueFormat = "", caption = ""} = {}) {
  const format = valueFormatter(valueFormat);
  // The chosen order survives redraws (live updates) of the same table.
  const state = tableSorts.get(container) || {column: null, ascending: true};
  tableSorts.set(container, state);
  if (state.column !== null && state.column >= data.columns.length) state.column = null;
  const root = d3.select(container);
  root.selectAll("*").remove();
  if (!data.rows.length) {
    root.append("p").attr("class", "muted table-empty").text("No rows.");
    return;
  }
  const table = root.append("table").attr("class", "data");
  if (caption) table.append("caption").attr("class", "visually-hidden").text(caption);
  const headers = table.append("thead").append("tr").selectAll("th")
    .data(data.columns).join("th")
    .attr("scope", "col")
    .classed("num", (column) => NUMERIC.has(column.type));
  headers.append("button")
    .attr("type", "button")
    .text((column) => column.name)
    .on("click", (event, column) => {
      const index = data.columns.indexOf(column);
      state.ascending = state.column === index ? !state.ascending : !NUMERIC.has(column.type);
      state.column = index;
      drawBody();
    });
  const body = table.append("tbody");
  const footnote = root.append("p").attr("class", "muted table-note");

  function drawBody() {
    headers.attr("aria-sort", (column, i) => {
      if (state.column !== i) return null;
      return state.ascending ? "ascending" : "descending";
    });
    const rows = sortedRows(data.rows, state);
    const shown = rows.slice(0, TABLE_ROW_LIMIT);
    body.selectAll("tr").data(shown).join("tr")
      .selectAll("td").data((row) => row.map((value, i) => [value, data.columns[i]])).join("td")
      .classed("num", ([, column]) => NUMERIC.has(column.type))
      .text(([value, column]) => cellText(value, column, format));
    footnote.text(rows.length > shown.length
      ? `Showing the first ${shown.length} of ${rows.length} rows; download the CSV for all of them.`
      : "");
  }
  drawBody();
}

function cellText(value, column, format) {
  if (column.type === "time") return value === null ? "–" : formatTimestamp(value);
  if (NUMERIC.has(column.type)) return format(value);
  return dimensionLabel(value);
}

function sortedRows(rows, {column, ascending}) {
  if (column === null) return rows;
  // Nulls last either way; d3.ascending/descending order numbers and strings.
  const compare = ascending ? d3.ascending : d3.descending;
  return [...rows].sort((a, b) => {
    const x = a[column];
    const y = b[column];
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    return compare(x, y);
  });
}
