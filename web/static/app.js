// The app: sign in, exercises, practice with live transcript and scores, history and each
// stored session, the tutor's desk and the admin's. Routes are paths (router.js): /login, /,
// /exercises/<id>, /history, /library, /sessions/<id>, /tutor, /tutor/learners/<id>, /admin. The
// pages other than sign-in, exercises and practice are in modules of their own.

import { adminPage } from "./admin.js";
import { ApiError, api, login, logout, recordingUrl, register, resumeSignIn, signedIn } from "./api.js";
import { Microphone, MicrophoneDenied } from "./capture.js";
import { feedbackBlock, h, scoresBlock, wordsBlock } from "./dom.js";
import { historyPage } from "./history.js";
import { libraryPage } from "./library.js";
import { ModelAudio } from "./listen.js";
import { PracticeSession } from "./practice.js";
import { currentPath, go, startRouter } from "./router.js";
import { sessionPage } from "./session-detail.js";
import { leaveDesk, tutorDesk } from "./tutor-desk.js";
import { learnerPage } from "./tutor-learner.js";

const view = document.getElementById("view");
const notice = document.getElementById("notice");
const nav = document.getElementById("nav");

/** Why the user was sent to the sign-in page, shown there. */
let carried = "";

function say(text) {
  notice.textContent = text || "";
  notice.hidden = !text;
}

// Bumped by every navigation: a view whose data arrives after the learner moved on to
// another view must not replace it.
let navigation = 0;

function show(token, ...children) {
  if (token !== navigation) return;
  view.replaceChildren(...children.filter((c) => c !== null && c !== undefined));
  view.focus();
}

async function guarded(work) {
  try {
    say("");
    await work();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      // Said on the sign-in page, which would otherwise clear it as it opens.
      carried = error.message;
      go("/login");
      return;
    }
    say(error.message);
  }
}

// sign in

function loginView(token) {
  const email = h("input", { type: "email", required: "", autocomplete: "email",
    "data-testid": "login-email", "aria-label": "E-mail" });
  const password = h("input", { type: "password", required: "", minlength: "8",
    autocomplete: "current-password", "data-testid": "login-password", "aria-label": "Password" });
  const name = h("input", { type: "text", placeholder: "Your name (to register)",
    "data-testid": "register-name", "aria-label": "Your name" });
  const submit = (creating) => (event) => {
    event.preventDefault();
    guarded(async () => {
      me = null; // whoever was signed in before, this tab is now someone else's
      if (creating) await register(email.value, password.value, name.value || email.value);
      else await login(email.value, password.value);
      go(wanted, { replace: true });
    });
  };
  show(
    token,
    h("h1", {}, "Sign in"),
    h("form", { onsubmit: submit(false) },
      h("label", {}, "E-mail", email),
      h("label", {}, "Password", password),
      h("button", { type: "submit", class: "primary", "data-testid": "login-submit" }, "Sign in"),
      h("details", {},
        h("summary", {}, "New here? Register"),
        name,
        h("button", { type: "button", "data-testid": "register-submit", onclick: submit(true) },
          "Register"))),
  );
}

// exercises

async function exercisesView(token) {
  const courses = await api("GET", "/v1/courses");
  const list = h("div");
  for (const course of courses) {
    const exercises = await api("GET", `/v1/courses/${course.id}/exercises`);
    const items = exercises
      .filter((e) => !e.archived)
      .map((e) =>
        h("li", { class: "card", "data-testid": "exercise-item" },
          h("a", { href: `/exercises/${e.id}` }, e.title),
          h("div", {}, e.kind === "read_aloud" ? "Read aloud" : "Open response")));
    list.append(h("section", {}, h("h2", {}, course.title), h("ul", { class: "plain" }, ...items)));
  }
  show(token, h("h1", {}, "Exercises"), courses.length ? list : h("p", {}, "No courses yet."));
}

// practice

async function practiceView(token, exerciseId) {
  const exercise = await api("GET", `/v1/exercises/${exerciseId}`);
  const committed = h("span", { "data-testid": "transcript-committed" });
  const tentative = h("span", { class: "tentative", "data-testid": "transcript-tentative" });
  const level = h("div");
  const status = h("p", { "data-testid": "practice-status", "aria-live": "polite" }, "Ready.");
  const result = h("div", { "data-testid": "result" });
  const startButton = h("button", { class: "primary", "data-testid": "record-start" }, "Start");
  const stopButton = h("button", { "data-testid": "record-stop", disabled: "" }, "Stop");
  const model = exercise.reference_text ? new ModelAudio(exerciseId, say) : null;
  let mic = null;
  let session = null;

  startButton.addEventListener("click", () => guarded(async () => {
    result.replaceChildren();
    committed.textContent = tentative.textContent = "";
    mic = new Microphone(
      (pcm) => session && session.audio(pcm),
      (rms) => { level.style.width = `${Math.min(100, rms * 400)}%`; },
    );
    try {
      await mic.open();
    } catch (error) {
      mic = null;
      if (error instanceof MicrophoneDenied) throw error;
      throw new Error("The microphone could not be started.");
    }
    session = new PracticeSession(exerciseId, mic.sampleRate, {
      interim: (m) => { committed.textContent = m.committed; tentative.textContent = ` ${m.tentative}`; },
      state: (s) => {
        const texts = { recording: "Recording… speak now.", resumed: "Reconnected; still recording.",
          reconnecting: "Connection lost; reconnecting…", processing: "Scoring…" };
        status.textContent = texts[s] || s;
      },
      final: (m) => {
        if (mic) mic.close();
        status.textContent = "Done.";
        committed.textContent = m.transcript;
        tentative.textContent = "";
        const evaluation = m.evaluation || {};
        result.replaceChildren(
          h("h2", {}, "Your scores"), scoresBlock(evaluation.scores || {}),
          model ? model.words(wordsBlock(evaluation.words || [])) : null,
          h("p", {}, h("em", {}, "Feedback is on its way…")));
        startButton.disabled = false;
        stopButton.disabled = true;
        window.parleyLastFinal = m; // read by the browser tests
        recordingUrl(m.session_id).then((url) =>
          result.append(h("audio", { controls: "", src: url, "data-testid": "playback" })),
        ).catch(() => {});
      },
      feedback: (m) => {
        const waiting = result.querySelector("em");
        if (waiting) waiting.parentElement.remove();
        result.append(feedbackBlock(m.feedback, m.rubric_result));
      },
      error: (text, fatal) => {
        say(text);
        if (fatal) {
          if (mic) mic.close();
          startButton.disabled = false;
          stopButton.disabled = true;
        }
      },
    });
    window.parleySession = session; // test hook: drop() simulates a network blip
    session.start();
    startButton.disabled = true;
    stopButton.disabled = false;
  }));
  stopButton.addEventListener("click", () => {
    stopButton.disabled = true;
    if (mic) mic.close();
    if (session) session.stop();
  });

  show(
    token,
    h("h1", {}, exercise.title),
    exercise.reference_text
      ? h("p", { class: "reference", "data-testid": "reference" }, exercise.reference_text)
      : h("p", { class: "reference", "data-testid": "prompt" }, exercise.prompt || ""),
    h("div", { class: "controls" }, startButton, stopButton, model && model.controls()),
    h("div", { class: "meter", "aria-label": "Microphone level" }, level),
    h("p", { class: "transcript", "aria-live": "polite" }, committed, tentative),
    status,
    result,
  );
}

// routing

async function route() {
  const path = currentPath();
  navigation += 1;
  const token = navigation;
  // After a reload the access token is gone: the refresh token of this tab renews it.
  if (!signedIn()) await resumeSignIn();
  nav.hidden = !signedIn();
  if (!signedIn() && path !== "/login") {
    wanted = path;
    go("/login", { replace: true });
    return;
  }
  if (path !== "/tutor") leaveDesk();
  await guarded(async () => {
    if (signedIn() && me === null) me = await api("GET", "/v1/users/me");
  });
  const role = me ? me.role : null;
  document.getElementById("nav-tutor").hidden = role !== "tutor" && role !== "admin";
  document.getElementById("nav-admin").hidden = role !== "admin";
  if (token !== navigation) return; // the learner moved on while the account was read
  if (me === null && path !== "/login") return; // said already, or sent to sign in
  const page = { show: (...children) => show(token, ...children), say, me,
    current: () => token === navigation };
  await guarded(async () => {
    if (path === "/login") {
      loginView(token);
      say(carried);
      carried = "";
    }
    else if (path === "/tutor") await tutorDesk(page);
    else if (path.startsWith("/tutor/learners/")) {
      await learnerPage(page, path.slice("/tutor/learners/".length));
    }
    else if (path === "/admin") await adminPage(page);
    else if (path.startsWith("/sessions/")) await sessionPage(page, path.slice("/sessions/".length));
    else if (path === "/history") await historyPage(page);
    else if (path === "/library") await libraryPage(page);
    else if (path.startsWith("/exercises/")) {
      await practiceView(token, path.slice("/exercises/".length));
    }
    else await exercisesView(token);
  });
}

/** The signed-in user (GET /v1/users/me), read once per sign-in. */
let me = null;
/** Where a signed-out visitor was going: shown once they have signed in. */
let wanted = "/";

document.getElementById("sign-out").addEventListener("click", async () => {
  me = null;
  await logout();
  wanted = "/";
  go("/login");
});
startRouter(route);
