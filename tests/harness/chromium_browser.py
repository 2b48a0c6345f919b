"""The user's browser at a real OpenID Provider, played by headless Chromium (Selenium + chromedriver).

Run as `BROWSER="python chromium_browser.py %s"`. It opens the URL, types a login name into the
provider's sign-in page and clicks Sign-in, clicks Continue on the consent page (and on the device
code pages), and waits until Chromium lands on a page served by 127.0.0.1 that is not the provider
(the loopback receiver's "you can close this window" page) or on the provider's device "Sign-in
Success" page; then it quits. Chromium is Debian's (/usr/bin/chromium, /usr/bin/chromedriver);
Selenium Manager is kept offline and every host name other than localhost fails to resolve, so
nothing leaves the machine.

Environment: ``BROWSER_LOG`` (append the URL to this file), ``OIDC_BROWSER_ACTION`` (``signin``,
``deny`` or ``nothing``), ``OIDC_BROWSER_LOGIN`` (default ``alice@example.com``),
``CHROMIUM_BROWSER_TIMEOUT`` (seconds for the whole run, default 30). Exit status 0 once landed,
1 otherwise (with one line on stderr).
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DEFAULT_LOGIN = "alice@example.com"
DEFAULT_TIMEOUT = 30.0
STEP_TIMEOUT = 10.0
ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-features=HttpsUpgrades,MediaRouter,OptimizationHints,Translate",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
)


class BrowserError(Exception):
    pass


def chromium_available() -> bool:
    """Debian's chromium and chromium-driver are installed and Selenium can be imported."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        return False
    try:
        import selenium.webdriver  # noqa: F401
    except ImportError:
        return False
    return True


def start(profile_dir: str) -> WebDriver:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never download a browser or driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (*ARGUMENTS, f"--user-data-dir={profile_dir}"):
        options.add_argument(argument)
    options.page_load_strategy = "normal"
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(STEP_TIMEOUT)
    return driver


def origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def find(driver: WebDriver, css: str) -> WebElement | None:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0] if found else None


def click_and_wait(driver: WebDriver, element: WebElement) -> None:
    """Click, then wait (bounded) until another document has replaced this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("window.__answered = true;")
    element.click()

    def replaced(_: WebDriver) -> bool:
        try:
            return driver.execute_script(
                "return window.__answered !== true && document.readyState === 'complete';"
            )
        except WebDriverException:  # between two documents
            return False

    WebDriverWait(driver, STEP_TIMEOUT, poll_frequency=0.1).until(replaced)


def answer(driver: WebDriver, action: str, login: str) -> str:
    """Answer the provider page on screen: "answered", "finished" (nothing more to do) or "idle"."""
    deny = action == "deny"
    if (message := find(driver, "p.red")) is not None:
        if deny:
            return "finished"  # the device page after an abort: "The Sign-in request was interrupted"
        raise BrowserError(f"the provider says: {message.text}")
    if find(driver, "form[id='op.deviceConfirmForm']"):
        button = "button[name='abort']" if deny else "button[autofocus][form='op.deviceConfirmForm']"
        return _click(driver, button)
    if (code_input := find(driver, "form[id='op.deviceInputForm'] input[name='user_code']")) is not None:
        if not code_input.get_attribute("value"):
            code_input.send_keys(os.environ.get("OIDC_BROWSER_USER_CODE", ""))
        return _click(driver, "button[form='op.deviceInputForm']")
    if find(driver, "input[name='prompt']") and deny:
        return _click(driver, ".login-help a")
    if (login_input := find(driver, "input[name='login']")) is not None:
        login_input.clear()
        login_input.send_keys(login)
        password = find(driver, "input[name='password']")
        if password is not None:
            password.send_keys("any-password")
        return _click(driver, "form button[type='submit']")
    if find(driver, "input[name='prompt'][value='consent']"):
        return _click(driver, "form button[type='submit']")
    return "idle"


def _click(driver: WebDriver, css: str) -> str:
    element = find(driver, css)
    if element is None:
        raise BrowserError(f"no {css} on {driver.title!r}")
    click_and_wait(driver, element)
    return "answered"


def landed(driver: WebDriver, provider: str) -> bool:
    """On the loopback receiver's page, or the provider's device-flow success page."""
    url = driver.current_url
    if origin(url) != provider:
        if find(driver, "#main-frame-error") is not None:
            raise BrowserError(f"Chromium could not load {url.split('?')[0]}")
        return urllib.parse.urlsplit(url).hostname in ("127.0.0.1", "localhost")
    return "success" in driver.title.lower()


def drive(driver: WebDriver, url: str, action: str, login: str, deadline: float) -> None:
    from selenium.common.exceptions import StaleElementReferenceException

    provider = origin(url)
    driver.get(url)
    while time.monotonic() < deadline:
        if landed(driver, provider):
            return
        try:
            state = answer(driver, action, login)
        except StaleElementReferenceException:  # the page changed under us (an auto-submitting form)
            state = "idle"
        if state == "finished":
            return
        if state == "idle":
            _wait(lambda: landed(driver, provider), min(1.0, deadline - time.monotonic()))
    raise BrowserError(f"did not reach the loopback receiver; last page {driver.title!r}")


def _wait(condition: Callable[[], bool], seconds: float) -> None:
    end = time.monotonic() + max(seconds, 0.0)
    while time.monotonic() < end and not condition():
        time.sleep(0.1)


def run(
    url: str, *, action: str = "signin", login: str = DEFAULT_LOGIN, timeout: float = DEFAULT_TIMEOUT
) -> None:
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="chromium-profile-", ignore_cleanup_errors=True) as profile:
        driver = start(profile)
        try:
            drive(driver, url, action, login, deadline)
        finally:
            driver.quit()


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(1)  # unwinds through run(), which quits Chromium and chromedriver


def main() -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    url = sys.argv[1]
    log = os.environ.get("BROWSER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(url + "\n")
    action = os.environ.get("OIDC_BROWSER_ACTION", "signin")
    if action == "nothing":
        return 0
    login = os.environ.get("OIDC_BROWSER_LOGIN", DEFAULT_LOGIN)
    timeout = float(os.environ.get("CHROMIUM_BROWSER_TIMEOUT", DEFAULT_TIMEOUT))
    try:
        run(url, action=action, login=login, timeout=timeout)
    except Exception as exc:  # a browser that fails says why in one line, never a traceback
        print(f"chromium_browser: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
