// The library: explain a word, phrase or grammar point (POST /v1/text/analyse) and save the
// answer to one's own library; search the course's and one's own resources, best-ranked
// first; tutors and admins add resources to a course and rate the shared ones.

import { api } from "./api.js";
import { h } from "./dom.js";

const LEVELS = ["", "A1", "A2", "B1", "B2", "C1", "C2"];
const KINDS = ["vocabulary", "phrase", "grammar"];

function options(values, label) {
  return values.map((v) => h("option", { value: v }, v || label));
}

/** The explanation of one analysis, and a button that saves it. */
function analysisCard(found, say, onSaved) {
  const e = found.explanation;
  const said = found.pronunciation ? ` /${found.pronunciation.ipa}/` : "";
  const parts = [h("h3", {}, found.text, said)];
  if (e) {
    parts.push(
      h("p", { "data-testid": "analysis-summary" }, e.summary),
      h("ul", { "data-testid": "analysis-definitions" },
        ...e.definitions.map((d) => h("li", {}, h("em", {}, d.part_of_speech), " ", d.meaning))),
      e.examples.length ? h("h4", {}, "Examples") : null,
      h("ul", {}, ...e.examples.map((x) => h("li", {}, x))),
      e.common_mistakes.length ? h("h4", {}, "Common mistakes") : null,
      h("ul", {}, ...e.common_mistakes.map((m) => h("li", {},
        h("s", {}, m.mistake), " → ", h("strong", {}, m.correction), ` (${m.why})`))));
  }
  if (found.note) parts.push(h("p", { "data-testid": "analysis-note" }, found.note));
  const source = found.source === "llm" ? `language model ${found.model}` : "Parley's dictionary";
  parts.push(h("p", { class: "muted" }, `From ${source}.`));
  const save = h("button", { type: "button", "data-testid": "analysis-save",
    onclick: async () => {
      try {
        await api("POST", "/v1/resources", { analysis_id: found.analysis_id });
        save.disabled = true;
        save.textContent = "Saved to your library";
        await onSaved();
      } catch (error) {
        say(error.message);
      }
    } }, "Save to my library");
  parts.push(save);
  return h("section", { class: "card", "data-testid": "analysis" }, ...parts);
}

/** One resource in the list; staff get a stars select for a shared one. */
function resourceRow(r, me, say) {
  const rating = r.rating_count
    ? ` · ★ ${r.rating_mean} (${r.rating_count})` : " · not rated yet";
  const head = h("p", {}, h("strong", {}, r.text), ` · ${r.kind}`, r.level ? ` · ${r.level}` : "",
    r.shared ? rating : " · your own");
  const rows = [head, h("p", { class: "pre" }, r.explanation),
    h("ul", {}, ...r.examples.map((x) => h("li", {}, x)))];
  if (r.shared && (me.role === "tutor" || me.role === "admin")) {
    const stars = h("select", { "aria-label": `Rate ${r.text}`, "data-testid": "resource-stars" },
      ...options(["", "1", "2", "3", "4", "5"], "Rate…"));
    stars.addEventListener("change", async () => {
      if (!stars.value) return;
      try {
        const rated = await api("PUT", `/v1/resources/${r.id}/rating`, { stars: Number(stars.value) });
        head.replaceWith(resourceRow(rated.resource, me, say).firstChild);
      } catch (error) {
        say(error.message);
      }
    });
    rows.push(stars);
  }
  return h("li", { class: "card", "data-testid": "resource" }, ...rows);
}

/** Tutors' and admins' form: a resource shared with a course they teach. */
async function addForm(me, say, onAdded) {
  const courses = (await api("GET", "/v1/courses?limit=200"))
    .filter((c) => me.role === "admin" || c.my_role === "tutor");
  if (!courses.length) return null;
  const course = h("select", { "aria-label": "Course", "data-testid": "resource-course" },
    ...courses.map((c) => h("option", { value: c.id }, c.title)));
  const kind = h("select", { "aria-label": "Kind", "data-testid": "resource-kind" },
    ...options(KINDS, ""));
  const text = h("input", { required: "", maxlength: "300", "aria-label": "Text",
    "data-testid": "resource-text", placeholder: "e.g. break the ice" });
  const explanation = h("textarea", { maxlength: "2000", rows: "2", "aria-label": "Explanation",
    "data-testid": "resource-explanation", placeholder: "What it means, how to use it" });
  const form = h("form", { class: "card", "data-testid": "resource-add" },
    h("h3", {}, "Add to a course"), h("div", { class: "row" }, course, kind, text), explanation,
    h("button", { type: "submit" }, "Add"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/v1/resources", { course_id: course.value, kind: kind.value,
        text: text.value, explanation: explanation.value });
      text.value = "";
      explanation.value = "";
      await onAdded();
    } catch (error) {
      say(error.message);
    }
  });
  return form;
}

export async function libraryPage({ show, say, me }) {
  const analysed = h("div");
  const list = h("ul", { class: "plain", "data-testid": "resources" });
  const more = h("button", { type: "button", hidden: "", "data-testid": "resources-more" },
    "More");
  const query = h("input", { type: "search", "aria-label": "Search the library",
    "data-testid": "resource-search", placeholder: "Search" });
  const kind = h("select", { "aria-label": "Kind" }, ...options(["", ...KINDS], "Any kind"));
  let cursor = null;

  async function load(append) {
    const params = new URLSearchParams({ limit: "20" });
    if (query.value.trim()) params.set("text", query.value.trim());
    if (kind.value) params.set("kind", kind.value);
    if (append && cursor) params.set("cursor", cursor);
    const page = await api("GET", `/v1/resources?${params}`);
    const rows = page.items.map((r) => resourceRow(r, me, say));
    if (append) list.append(...rows);
    else list.replaceChildren(...rows);
    if (!list.children.length) list.append(h("li", {}, "Nothing in the library yet."));
    cursor = page.next_cursor;
    more.hidden = cursor === null;
  }
  const guard = (work) => () => work().catch((error) => say(error.message));
  more.addEventListener("click", guard(() => load(true)));

  const text = h("input", { required: "", maxlength: "300", "data-testid": "analyse-text",
    "aria-label": "A word, phrase or grammar point", placeholder: "A word, phrase or grammar point" });
  const level = h("select", { "aria-label": "Your level", "data-testid": "analyse-level" },
    ...options(LEVELS, "Any level"));
  const ask = h("form", { class: "card" }, h("h2", {}, "Explain"),
    h("div", { class: "row" }, text, level,
      h("button", { type: "submit", class: "primary", "data-testid": "analyse" }, "Explain")));
  ask.addEventListener("submit", (event) => {
    event.preventDefault();
    guard(async () => {
      const body = { text: text.value };
      if (level.value) body.level = level.value;
      const found = await api("POST", "/v1/text/analyse", body);
      analysed.replaceChildren(analysisCard(found, say, () => load(false)));
    })();
  });
  const search = h("form", { class: "row" }, query, kind, h("button", { type: "submit" }, "Search"));
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    guard(() => load(false))();
  });
  await load(false);
  const adding = me.role === "learner" ? null : await addForm(me, say, () => load(false));
  show(h("h1", {}, "Library"), ask, analysed, h("h2", {}, "Resources"), search, list, more, adding);
}
