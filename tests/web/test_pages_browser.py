"""The pages in Chromium without a microphone: the API console at /docs, and the app on a
phone-sized screen, driven from the keyboard, reached by a deep link. No model is loaded
(nobody practises here), so the server starts in a couple of seconds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from tests.realtime.server import Server, sqlite_server
from tests.web.browser import PHONE, chromium, console_errors, fits, require_chromium

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with sqlite_server(
        tmp_path_factory.mktemp("pages"), PARLEY_REALTIME__PRELOAD_MODEL="false"
    ) as s:
        yield s


def by_id(testid: str) -> tuple[str, str]:
    return By.CSS_SELECTOR, f'[data-testid="{testid}"]'


def test_the_api_console_renders_from_parley_alone(server: Server) -> None:
    require_chromium()
    with chromium(None) as driver:
        driver.get(f"{server.url}/docs")
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 20)
        assert driver.find_element(By.CSS_SELECTOR, "button.authorize").is_displayed()
        summaries = driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        assert "/v1/auth/login" in {s.text.strip() for s in summaries}
        # Under the app's Content-Security-Policy, a refused script or style would be here.
        assert console_errors(driver) == []


def test_a_learner_on_a_phone_uses_the_keyboard_and_a_deep_link(server: Server) -> None:
    require_chromium()
    email, password = f"k-{uuid.uuid4().hex[:8]}@example.org", "a long password"
    body = {"email": email, "password": password, "display_name": "Kim"}
    httpx.post(f"{server.url}/v1/auth/register", json=body).raise_for_status()
    with chromium(None) as driver:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        wait = WebDriverWait(driver, 30)
        # A link to a page of the app: the server answers it with the app, which asks for
        # a sign-in first (tokens are kept in memory only) and then goes there.
        driver.get(f"{server.url}/history")
        field = wait.until(seen.visibility_of_element_located(by_id("login-email")))
        assert driver.execute_script("return location.pathname") == "/login"
        assert fits(driver)
        field.click()
        field.send_keys(email, Keys.TAB, password, Keys.ENTER)
        wait.until(seen.visibility_of_element_located((By.TAG_NAME, "h1")))
        wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "History")
        assert driver.execute_script("return location.pathname") == "/history"
        assert fits(driver)

        driver.find_element(*by_id("nav-exercises")).send_keys(Keys.ENTER)
        item = wait.until(seen.visibility_of_element_located(by_id("exercise-item")))
        assert fits(driver)
        item.find_element(By.TAG_NAME, "a").send_keys(Keys.ENTER)
        start = wait.until(seen.visibility_of_element_located(by_id("record-start")))
        assert driver.execute_script("return location.pathname").startswith("/exercises/")
        assert start.tag_name == "button" and start.is_enabled()  # reachable with Tab
        assert fits(driver)

        driver.back()  # the browser's own history works: back to the list
        wait.until(seen.visibility_of_element_located(by_id("exercise-item")))
        assert driver.execute_script("return location.pathname") == "/"
        assert console_errors(driver) == []


# The first two reads of the account meet an expired token (as 15 minutes after sign-in)
# at once; what the page's client does about it is counted.
TWO_EXPIRED = """
const done = arguments[arguments.length - 1];
const real = window.fetch;
const seen = { refresh: 0, expired: 0 };
window.fetch = (url, init) => {
  if (url === "/v1/auth/refresh") seen.refresh += 1;
  if (url === "/v1/users/me" && seen.expired < 2) {
    seen.expired += 1;
    const body = JSON.stringify({ error: { code: "token_expired", message: "expired" } });
    return Promise.resolve(new Response(body, { status: 401 }));
  }
  return real(url, init);
};
import("/static/api.js")
  .then((m) => Promise.all([m.api("GET", "/v1/users/me"), m.api("GET", "/v1/users/me")]))
  .then((both) => done({ names: both.map((u) => u.display_name), ...seen }))
  .catch((error) => done({ error: String(error), ...seen }))
  .finally(() => { window.fetch = real; });
"""


def test_calls_meeting_an_expired_token_together_renew_it_once(server: Server) -> None:
    """A refresh token is good for one use: a second renewal with it would be taken for a
    stolen copy and sign the user out everywhere."""
    require_chromium()
    email, password = f"r-{uuid.uuid4().hex[:8]}@example.org", "a long password"
    body = {"email": email, "password": password, "display_name": "Rae"}
    httpx.post(f"{server.url}/v1/auth/register", json=body).raise_for_status()
    with chromium(None) as driver:
        wait = WebDriverWait(driver, 30)
        driver.get(f"{server.url}/history")
        wait.until(seen.visibility_of_element_located(by_id("login-email"))).send_keys(email)
        driver.find_element(*by_id("login-password")).send_keys(password, Keys.ENTER)
        wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "History")
        outcome = driver.execute_async_script(TWO_EXPIRED)
        assert outcome == {"names": ["Rae", "Rae"], "refresh": 1, "expired": 2}
        driver.refresh()  # the renewed sign-in is the one this tab keeps
        wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == "History")
        assert not driver.find_elements(*by_id("login-email"))
