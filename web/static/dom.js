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
  const rows = ["accuracy", "fluency", "completeness", "overall"].map((name) => {
    const value = scores[name] ?? 0;
    return h("div", { class: "score" },
      h("span", {}, name[0].toUpperCase() + name.slice(1)),
      h("strong", { "data-testid": `score-${name}` }, String(Math.round(value))),
      h("div", { class: "meter", "aria-hidden": "true" }, fill(value)));
  });
  return h("div", { class: "scores" }, ...rows);
}

export function wordsBlock(words) {
  const spans = words
    .filter((w) => w.expected !== null)
    .map((w) =>
      h("span", { class: "word", "data-testid": "word", "data-error-type": w.error_type,
        title: `${w.error_type}${w.heard && w.heard !== w.expected ? `: heard "${w.heard}"` : ""}` },
        w.expected));
  const out = h("p", { class: "reference" });
  spans.forEach((span, i) => out.append(span, i < spans.length - 1 ? " " : ""));
  return out;
}

export function feedbackBlock(feedback) {
  const f = feedback || {};
  const lines = [f.summary, ...(f.strengths || []), ...(f.pronunciation_tips || []),
    ...(f.corrections || []).map((c) => `${c.original} → ${c.suggestion}`)];
  return h("div", { class: "card", "data-testid": "feedback" },
    h("h3", {}, "Feedback"), ...lines.filter(Boolean).map((line) => h("p", {}, line)));
}

export function when(iso) {
  return new Date(iso).toLocaleString();
}
