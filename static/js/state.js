// The view's state (time range, granularity, auto-refresh) in the URL query string and in the
// controls form (_chart_controls.html), so that a link reproduces what one sees. Shared by the
// chart page and dashboards.

export const PRESETS = ["PT15M", "PT1H", "PT6H", "P1D", "P7D", "P30D"];

// Granularities a zoom may pick, finest first, with their bucket length.
const STEPS = [
  ["minute", 60_000], ["five_minute", 300_000], ["fifteen_minute", 900_000],
  ["hour", 3_600_000], ["six_hour", 21_600_000], ["day", 86_400_000],
];
const ZOOM_MIN_BUCKETS = 24;

/** {range, start, end, granularity, refresh} from a query string; bad values fall back. */
export function readState(search, {refresh = 0} = {}) {
  const params = new URLSearchParams(search);
  const start = validInstant(params.get("start"));
  const end = validInstant(params.get("end"));
  let range = params.get("range") || "";
  if (range === "custom" || (!range && start && end)) range = start && end ? "custom" : "";
  else if (!PRESETS.includes(range)) range = "";
  const asked = Number.parseInt(params.get("refresh") ?? "", 10);
  return {
    range,
    start: range === "custom" ? start : "",
    end: range === "custom" ? end : "",
    granularity: params.get("granularity") || "",
    refresh: Number.isFinite(asked) && asked >= 0 ? asked : refresh,
  };
}

/** The query string for a state; the page's default refresh is left out to keep links short. */
export function stateQuery(state, {refresh = 0} = {}) {
  const params = new URLSearchParams();
  if (state.range) params.set("range", state.range);
  if (state.range === "custom") {
    params.set("start", state.start);
    params.set("end", state.end);
  }
  if (state.granularity) params.set("granularity", state.granularity);
  if (state.refresh !== refresh) params.set("refresh", String(state.refresh));
  return params.toString();
}

/** Put the state in the address bar; a new history entry, so Back returns to the last view. */
export function pushState(state, defaults) {
  const query = stateQuery(state, defaults);
  const url = `${window.location.pathname}${query ? `?${query}` : ""}`;
  if (url !== `${window.location.pathname}${window.location.search}`) {
    window.history.pushState(null, "", url);
  }
}

/** The results API's parameters for a state: interval (relative or absolute) and granularity. */
export function resultsParams(state) {
  const params = new URLSearchParams();
  if (PRESETS.includes(state.range)) params.set("interval", state.range);
  if (state.range === "custom") params.set("interval", `${state.start}/${state.end}`);
  if (state.granularity) params.set("granularity", state.granularity);
  return params;
}

/** Does the window move with the clock (so live updates drop what falls out of it)? */
export function isRelative(state, savedInterval) {
  if (PRESETS.includes(state.range)) return true;
  if (state.range) return false;
  const text = String(savedInterval || "").trim();
  const parts = text.split("/");
  return parts.length === 1 || parts[parts.length - 1].toLowerCase() === "now";
}

/**
 * Where a brushed span zooms to: the coarsest granularity that still gives a couple of dozen
 * buckets, never coarser than the buckets on screen (zooming must not lose detail), and the
 * span widened to whole buckets of it so that the first and last bucket are not partial.
 */
export function zoomTo(startIso, endIso, currentBucketMs = 0) {
  const start = Date.parse(startIso);
  const end = Date.parse(endIso);
  let [granularity, step] = STEPS[0];
  for (const [name, ms] of STEPS) {
    if ((end - start) / ms >= ZOOM_MIN_BUCKETS && (!currentBucketMs || ms <= currentBucketMs)) {
      [granularity, step] = [name, ms];
    }
  }
  const instant = (ms) => new Date(ms).toISOString().replace(".000Z", "Z");
  return {
    granularity,
    start: instant(Math.floor(start / step) * step),
    end: instant(Math.ceil(end / step) * step),
  };
}

function validInstant(text) {
  if (!text || Number.isNaN(Date.parse(text))) return "";
  return new Date(Date.parse(text)).toISOString().replace(".000Z", "Z");
}

// -- the controls form --------------------------------------------------------------------------

// datetime-local inputs have no zone; the labels say UTC, and the values are read as UTC.
function toLocalInput(iso) {
  return iso ? iso.replace(/\.\d+Z$|Z$/, "").slice(0, 19) : "";
}

function fromLocalInput(value) {
  if (!value) return "";
  const withSeconds = value.length === 16 ? `${value}:00` : value;
  return validInstant(`${withSeconds}Z`);
}

/** Make sure a <select> can show a value it does not list (a zoomed granularity, a saved refresh). */
function ensureOption(select, value, label) {
  if (!select || value === "" || [...select.options].some((o) => o.value === String(value))) return;
  select.add(new Option(label, String(value)));
}

/** Show a state in the form. */
export function fillControls(form, state) {
  const {range, granularity, refresh, start, end} = form.elements;
  range.value = state.range;
  ensureOption(granularity, state.granularity, state.granularity);
  granularity.value = state.granularity;
  ensureOption(refresh, state.refresh, `${state.refresh} s`);
  refresh.value = String(state.refresh);
  start.value = toLocalInput(state.start);
  end.value = toLocalInput(state.end);
  form.querySelector("[data-custom-range]").hidden = state.range !== "custom";
}

/** Read the form into a state; null when a custom range is incomplete or backwards. */
export function readControls(form) {
  const {range, granularity, refresh, start, end} = form.elements;
  const state = {
    range: range.value,
    start: "", end: "",
    granularity: granularity.value,
    refresh: Number.parseInt(refresh.value, 10) || 0,
  };
  if (state.range === "custom") {
    state.start = fromLocalInput(start.value);
    state.end = fromLocalInput(end.value);
    if (!state.start || !state.end || Date.parse(state.start) >= Date.parse(state.end)) return null;
  }
  return state;
}

/**
 * Wire the form: presets, granularity and refresh apply as soon as they change (keyboard users
 * change a select with the arrow keys; a newer query aborts the one before); a custom range
 * applies on Apply / Enter, once both ends are set. `suggestRange()` gives start/end to prefill when "Custom…" is picked.
 */
export function bindControls(form, {onChange, onInvalid, suggestRange}) {
  const custom = form.querySelector("[data-custom-range]");
  form.elements.range.addEventListener("change", () => {
    const isCustom = form.elements.range.value === "custom";
    custom.hidden = !isCustom;
    if (isCustom) {
      const {start, end} = suggestRange();
      if (!form.elements.start.value) form.elements.start.value = toLocalInput(start);
      if (!form.elements.end.value) form.elements.end.value = toLocalInput(end);
      // Focus stays on the select (no surprise jumps while arrowing through it); the inputs
      // come next in the tab order, and Apply or Enter runs the range.
      return;
    }
    apply();
  });
  form.elements.granularity.addEventListener("change", apply);
  form.elements.refresh.addEventListener("change", apply);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });

  function apply() {
    const state = readControls(form);
    if (state) onChange(state);
    else onInvalid("Pick a start and an end (in UTC), the start before the end.");
  }
}
