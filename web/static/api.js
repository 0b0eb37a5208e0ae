// The REST client. The access token lives in memory only; the refresh token also in this
// tab's sessionStorage, so a reload keeps the user signed in (renewing the access token),
// while closing the tab, or signing out, ends it. Not localStorage: that would outlive the
// tab and the browser (a learner on a school's shared computer would stay signed in for the
// refresh token's week) and be shared by every tab, each rotating the one token. The page's
// CSP allows no script but its own, which is what keeps a stored token from other scripts.
// An expired access token is renewed once with the refresh token before a request is given
// up. (A duplicated tab starts with a copy of this storage: whichever of the two renews
// second presents a used token, and the server then ends both sign-ins.)

const STORED = "parley.refresh";

/** @type {{access: string|null, refresh: string|null}} */
const tokens = { access: null, refresh: sessionStorage.getItem(STORED) };

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function signedIn() {
  return tokens.access !== null;
}

export function accessToken() {
  return tokens.access;
}

function keep(pair) {
  tokens.access = pair.access_token;
  tokens.refresh = pair.refresh_token;
  sessionStorage.setItem(STORED, pair.refresh_token);
}

function forget() {
  tokens.access = tokens.refresh = null;
  sessionStorage.removeItem(STORED);
}

/** After a reload: sign in again with this tab's refresh token, if it has a valid one. */
export async function resumeSignIn() {
  if (tokens.access !== null || !tokens.refresh) return;
  await refresh().catch(() => {});
}

async function send(method, path, body, auth) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && tokens.access) headers.Authorization = `Bearer ${tokens.access}`;
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error || {};
    throw new ApiError(response.status, error.code || "http_error", plain(error));
  }
  return data;
}

/** A sentence a learner can read, from the API's error body. */
function plain(error) {
  const sentences = {
    bad_credentials: "That e-mail address and password do not match.",
    email_taken: "An account with this e-mail address exists already: sign in instead.",
    rate_limited: "Too many attempts. Please wait a moment and try again.",
    registration_closed: "Registration is closed on this server; ask your school for an account.",
    account_disabled: "This account is disabled.",
    token_expired: "Your session has expired. Please sign in again.",
    invalid_input: "Please check the form: something is missing or not valid.",
  };
  const first = error.details && error.details.errors && error.details.errors[0];
  if (error.code === "invalid_input" && first && first.msg) {
    // The first problem, as the API words it ("the weights must sum to 100, not 90").
    const where = (first.loc || []).filter((part) => typeof part === "string").join(" ");
    const what = first.msg.replace(/^Value error, /, "");
    return `Please check the form: ${where ? `${where}: ` : ""}${what}.`;
  }
  return sentences[error.code] || error.message || "Something went wrong. Please try again.";
}

/** An API call; a 401 is answered by one refresh and one retry. */
export async function api(method, path, body) {
  const sentWith = tokens.access;
  try {
    return await send(method, path, body, true);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || !tokens.refresh) throw error;
    // Renewed by a call that met the 401 first: retry with the new token as it is.
    if (tokens.access === sentWith) await refresh();
    return send(method, path, body, true);
  }
}

/** @type {Promise<void>|null} */
let renewing = null;

/** Renew the pair. Calls that meet a 401 together share one renewal: each refresh token
 * may be presented once, and a second presentation is taken for a stolen copy, which
 * signs the user out everywhere. */
export function refresh() {
  if (renewing === null) {
    renewing = renew().finally(() => { renewing = null; });
  }
  return renewing;
}

async function renew() {
  try {
    keep(await send("POST", "/v1/auth/refresh", { refresh_token: tokens.refresh }, false));
  } catch (error) {
    forget();
    throw new ApiError(401, "token_expired", "Your session has expired. Please sign in again.");
  }
}

export async function login(email, password) {
  keep(await send("POST", "/v1/auth/login", { email, password }, false));
}

export async function register(email, password, displayName) {
  const body = { email, password, display_name: displayName };
  const created = await send("POST", "/v1/auth/register", body, false);
  keep(created.tokens);
}

export async function logout() {
  const refreshToken = tokens.refresh;
  forget();
  if (refreshToken) {
    await send("POST", "/v1/auth/logout", { refresh_token: refreshToken }, false).catch(() => {});
  }
}

/** The recording of a stored session, as an object URL for an <audio> element. */
export async function recordingUrl(sessionId) {
  return blobUrl(`/v1/sessions/${sessionId}/audio`, "The recording is not available.");
}

/** An object URL of what an authenticated GET of `path` answers (audio, a CSV file). */
export async function blobUrl(path, unavailable) {
  const fetchIt = () => fetch(path, { headers: { Authorization: `Bearer ${tokens.access}` } });
  let response = await fetchIt();
  if (response.status === 401 && tokens.refresh) {
    await refresh();
    response = await fetchIt();
  }
  if (!response.ok) throw new ApiError(response.status, "download", unavailable);
  return URL.createObjectURL(await response.blob());
}
