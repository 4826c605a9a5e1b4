// Admin preview: run the saved-query form as edited (not as saved) through /api/queries/preview/.
"use strict";

const JSON_FIELDS = ["granularity", "dimensions", "metric", "filter", "aggregations",
  "post_aggregations", "having", "limit_spec", "context", "extra"];
const TEXT_FIELDS = ["query_type", "datasource", "interval"];

function formDefinition(form) {
  const body = {};
  for (const name of TEXT_FIELDS) {
    const field = form.elements[name];
    if (field) body[name] = field.value;
  }
  for (const name of JSON_FIELDS) {
    const field = form.elements[name];
    if (!field || field.value.trim() === "") continue;
    try {
      body[name] = JSON.parse(field.value);
    } catch (err) {
      throw new Error(`${name}: not valid JSON (${err.message})`);
    }
  }
  const threshold = form.elements.threshold;
  if (threshold && threshold.value !== "") body.threshold = Number(threshold.value);
  const descending = form.elements.descending;
  if (descending) body.descending = descending.checked;
  return body;
}

function showError(target, text) {
  const p = document.createElement("p");
  p.className = "error";
  p.textContent = text;
  target.replaceChildren(p);
}

function showTable(target, result) {
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  for (const column of result.columns) {
    const th = document.createElement("th");
    th.textContent = column.name;
    head.appendChild(th);
  }
  const body = table.createTBody();
  for (const row of result.rows.slice(0, 200)) {
    const tr = body.insertRow();
    for (const value of row) tr.insertCell().textContent = value === null ? "null" : String(value);
  }
  const note = document.createElement("p");
  note.textContent = `${result.rows.length} rows in ${result.meta.duration_ms} ms` +
    (result.rows.length > 200 ? " (first 200 shown)" : "");
  target.replaceChildren(note, table);
}

async function preview(button) {
  const form = button.closest("form");
  const target = document.getElementById("druid-preview-result");
  target.textContent = "Running…";
  let body;
  try {
    body = formDefinition(form);
  } catch (err) {
    showError(target, err.message);
    return;
  }
  const response = await fetch(button.dataset.url, {
    method: "POST",
    headers: {"Content-Type": "application/json",
              "X-CSRFToken": form.elements.csrfmiddlewaretoken.value},
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({detail: response.statusText}));
  if (!response.ok) {
    const errors = data.errors ? Object.entries(data.errors).map(([k, v]) => `${k}: ${[].concat(v).join(" ")}`) : [];
    showError(target, [data.detail, ...errors].filter(Boolean).join("\n"));
    return;
  }
  showTable(target, data);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("#druid-preview");
  if (button) preview(button);
});
