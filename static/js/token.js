// The API token page: [data-copy] copies the token and says so in [data-copy-status].

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", () => copyFrom(button));
}

async function copyFrom(button) {
  const field = document.querySelector(button.dataset.copy);
  const status = document.querySelector("[data-copy-status]");
  if (!field) return;
  const ok = await copyText(field.value);
  if (status) status.textContent = ok ? "Copied to the clipboard." : "Could not copy: select the token and copy it yourself.";
  if (!ok) field.select();
}

/** navigator.clipboard where allowed (secure contexts); else the older execCommand("copy"). */
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // permission refused: try the fallback below
    }
  }
  const scratch = document.createElement("textarea");
  scratch.value = text;
  scratch.setAttribute("readonly", "");
  scratch.style.position = "fixed";
  scratch.style.opacity = "0";
  document.body.append(scratch);
  scratch.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  scratch.remove();
  return ok;
}
