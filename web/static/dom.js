// Building the page: one helper for elements, and the blocks several pages show.

/** Build an element: h("p", {class: "x", "data-testid": "y"}, "text", child...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) el.setAttribute(key, value);
  }
  el.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function fill(percent) {
  // Set through the CSSOM: the page's CSP allows no inline style attributes.
  const bar = h("div", { class: "bar-fill" });
  bar.style.width = `${percent}%`;
  return bar;
}

export function scoresBlock(scores) {
  // Prosody is scored for readings only: shown where there is a number for it.
  const names = ["accuracy", "fluency", "completeness", "prosody", "overall"]
    .filter((name) => name !== "prosody" || typeof scores.prosody === "number");
  const rows = names.map((name) => {
    const value = scores[name] ?? 0;
    return h("div", { class: "score" },
      h("span", {}, name[0].toUpperCase() + name.slice(1)),
      h("strong", { "data-testid": `score-${name}` }, String(Math.round(value))),
      h("div", { class: "meter", "aria-hidden": "true" }, fill(value)));
  });
  return h("div", { class: "scores" }, ...rows);
}

/** The word's weakest sound, when one fell short: "/θ/ sounded like /s/". */
function weakestSound(word) {
  const phones = (word.phones || []).filter((p) => p.accuracy < 60);
  if (!phones.length) return "";
  const worst = phones.reduce((a, b) => (b.accuracy < a.accuracy ? b : a));
  return worst.heard_as && worst.heard_as !== worst.phone
    ? `; /${worst.ipa}/ sounded like ${worst.heard_as}` : `; /${worst.ipa}/ was unclear`;
}

/** The prosodic flags a word's error type does not already name. */
function phrasing(w) {
  const more = (w.prosody_errors || []).filter((p) => p !== w.error_type);
  return more.length ? `; ${more.join(", ").replaceAll("_", " ")}` : "";
}

export function wordsBlock(words) {
  const spans = words
    .filter((w) => w.expected !== null)
    .map((w) =>
      h("span", { class: "word", "data-testid": "word", "data-error-type": w.error_type,
        title: `${w.error_type}${w.heard && w.heard !== w.expected ? `: heard "${w.heard}"` : ""}`
          + weakestSound(w) + phrasing(w) },
        w.expected));
  const out = h("p", { class: "reference" });
  spans.forEach((span, i) => out.append(span, i < spans.length - 1 ? " " : ""));
  return out;
}

/** An open response's marks against its rubric: one row per criterion. */
function rubricTable(marked) {
  const rows = marked.criteria.map((c) => h("tr", { "data-testid": "rubric-criterion" },
    h("td", {}, c.name), h("td", {}, `${c.weight} %`),
    h("td", {}, c.assessed ? String(c.score) : "not assessed"), h("td", {}, c.justification)));
  const overall = marked.overall === null ? "–" : String(marked.overall);
  return h("div", { class: "scroll" }, h("table", { "data-testid": "rubric-result" },
    h("caption", {}, `Rubric (version ${marked.version}): ${overall} over ${marked.weight_assessed} % assessed`),
    h("thead", {}, h("tr", {}, ...["Criterion", "Weight", "Score", "Why"].map((t) => h("th", {}, t)))),
    h("tbody", {}, ...rows)));
}

/** @param {any} feedback @param {any} [marked] the rubric result, for an open response */
export function feedbackBlock(feedback, marked) {
  const f = feedback || {};
  const lines = [f.summary, ...(f.strengths || []), ...(f.pronunciation_tips || []),
    ...(f.corrections || []).map((c) => `${c.original} → ${c.suggestion}`)];
  return h("div", { class: "card", "data-testid": "feedback" },
    h("h3", {}, "Feedback"), ...lines.filter(Boolean).map((line) => h("p", {}, line)),
    marked ? rubricTable(marked) : null);
}

export function when(iso) {
  return new Date(iso).toLocaleString();
}
