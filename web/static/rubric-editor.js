// An open-response exercise's rubric as its course's staff write it: criteria with a name,
// a weight (the weights sum to 100) and levels, one "score: what it sounds like" a line, by
// increasing score. Saving adds a version (PUT /v1/exercises/<id>/rubric); the API's reason
// for refusing one is shown as it says it.

import { ApiError, api } from "./api.js";
import { h } from "./dom.js";

const MEASURED = "fluency, pronunciation, vocabulary_range and length";
const TEMPLATE = [
  { key: "task", name: "Task completion", weight: 40 },
  { key: "grammar", name: "Grammar", weight: 30 },
  { key: "fluency", name: "Fluency", weight: 30 },
].map((c) => ({ ...c, levels: [{ score: 20, descriptor: "Rarely" }, { score: 60, descriptor: "Mostly" },
  { score: 100, descriptor: "Always" }] }));

/** "fluency" from "Fluency", "task_completion" from "Task completion!". */
const slug = (name) => name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "")
  .replace(/^(\d)/, "c$1").slice(0, 40);

function criterionRow(c, onChange, remove) {
  const name = h("input", { "aria-label": "Criterion", required: "", maxlength: "80", value: c.name,
    "data-testid": "rubric-name" });
  const key = h("input", { "aria-label": "Key", required: "", maxlength: "40", value: c.key,
    pattern: "[a-z][a-z0-9_]*", "data-testid": "rubric-key" });
  name.addEventListener("input", () => { if (!c.keyEdited) key.value = slug(name.value); });
  key.addEventListener("input", () => { c.keyEdited = true; });
  const weight = h("input", { type: "number", min: "1", max: "100", required: "", value: c.weight,
    "aria-label": "Weight (%)", "data-testid": "rubric-weight", oninput: onChange });
  const levels = h("textarea", { rows: String(c.levels.length), "aria-label": "Levels",
    "data-testid": "rubric-levels" },
  c.levels.map((l) => `${l.score}: ${l.descriptor}`).join("\n"));
  const row = h("li", { class: "card", "data-testid": "rubric-criterion" },
    h("div", { class: "row" }, name, key, weight, "%",
      h("button", { type: "button", onclick: () => remove(row) }, "Remove")), levels);
  row.read = () => ({
    key: key.value.trim(), name: name.value.trim(), weight: Number(weight.value),
    levels: levels.value.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
      const [score, ...rest] = line.split(":");
      return { score: Number(score), descriptor: rest.join(":").trim() };
    }),
  });
  return row;
}

async function editor(exercise, say) {
  let current = null;
  try {
    current = await api("GET", `/v1/exercises/${exercise.id}/rubric`);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
  }
  const list = h("ol", { class: "plain" });
  const total = h("span", { "data-testid": "rubric-total" });
  const status = h("p", { "data-testid": "rubric-version" },
    current ? `Version ${current.version} marks new answers.` : "No rubric yet: this is a suggestion.");
  const sum = () => {
    const weights = [...list.children].map((row) => row.read().weight || 0);
    const all = weights.reduce((a, b) => a + b, 0);
    total.textContent = `Weights: ${all} of 100`;
  };
  const remove = (row) => { row.remove(); sum(); };
  const add = (c) => list.append(criterionRow({ ...c }, sum, remove));
  (current ? current.criteria : TEMPLATE).forEach(add);
  sum();
  const form = h("form", { "data-testid": "rubric-form" },
    h("p", { class: "muted" }, `Parley marks ${MEASURED} itself; the language model marks the rest.`),
    status, list,
    h("p", { class: "row" },
      h("button", { type: "button", onclick: () => { add({ key: "", name: "", weight: 10,
        levels: [{ score: 0, descriptor: "" }, { score: 100, descriptor: "" }] }); sum(); } },
      "Add criterion"),
      total,
      h("button", { type: "submit", class: "primary", "data-testid": "rubric-save" }, "Save rubric")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const saved = await api("PUT", `/v1/exercises/${exercise.id}/rubric`,
        { criteria: [...list.children].map((row) => row.read()) });
      status.textContent = `Saved: version ${saved.version} marks new answers.`;
      say("");
    } catch (error) {
      say(error.message);
    }
  });
  return form;
}

/** A <details> with the rubric editor, loaded when opened; null for a read-aloud exercise. */
export function rubricEditor(exercise, say) {
  if (exercise.kind !== "open_response") return null;
  const inside = h("div");
  return h("details", { "data-testid": "rubric-editor", ontoggle: (event) => {
    if (!event.target.open || inside.children.length) return;
    editor(exercise, say).then((form) => inside.append(form)).catch((error) => say(error.message));
  } }, h("summary", {}, "Rubric"), inside);
}
