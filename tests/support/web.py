"""What the browser tests of the web client (gateway/web/) share: one headless Chromium for the
whole session (the Debian package /usr/bin/chromium, driven by Playwright), fresh pages on
the running system, and the steps people take on them (sign in, answer a confirm(), open a
ticket from the list, run an action).

The fixtures `browser` and `open_page` are registered in tests/conftest.py; `field_service`
(a provider with one certified engineer) is imported by the modules that use it.
"""
import os
import uuid

import eventlet
import greenlet
import pytest
from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
WEB_ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "gateway", "web")
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)

# every browser test module carries this (the gongdan script's prerequisites install Chromium)
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is absent: install the Debian package 'chromium' "
           "(the gongdan script's prerequisites do)")

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(20_000)


# ---- the browser -----------------------------------------------------------------------

def _stop_playwright(manager):
    """Stop Playwright under eventlet's monkey patching (the root conftest.py applies it).

    Playwright's sync API runs asyncio in a greenlet (its dispatcher fiber); when that fiber
    blocks, eventlet's hub makes itself the fiber's parent, so when the fiber ends at stop it
    returns to the hub instead of to us and stop() would wait forever. A green thread hands
    control back once the fiber has ended; without eventlet the fiber returns to us directly
    and the helper does nothing.
    """
    waiter, fiber, state = greenlet.getcurrent(), manager._dispatcher_fiber, {"done": False}

    def hand_back():
        while not fiber.dead and not state["done"]:
            eventlet.sleep(0.05)
        if not state["done"]:
            waiter.switch()

    eventlet.spawn(hand_back)
    try:
        manager.__exit__(None, None, None)
    finally:
        state["done"] = True


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session: each test gets contexts of its own (open_page),
    so nothing but the process is shared, and its start-up is paid once instead of per module
    and backend."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent")
    manager = sync_playwright()
    playwright = manager.__enter__()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()
    finally:
        _stop_playwright(manager)


@pytest.fixture
def open_page(browser, system):
    """open_page(locale="zh-CN", width=1280, height=900) -> a fresh page (own session).

    Every page is checked at the end: no uncaught script error and no Content-Security-Policy
    violation (no inline script or style slipped in)."""
    contexts, problems = [], []

    def open_(locale="zh-CN", width=1280, height=900, timezone_id=None):
        # timezone_id: where the browser is (default: the machine's, UTC here)
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height},
                                      accept_downloads=True,
                                      **({"timezone_id": timezone_id} if timezone_id else {}))
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
        page.on("console", lambda msg: problems.append(f"console: {msg.text}")
                if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
        page.goto(system.base_url + "/")
        return page

    yield open_
    for context in contexts:
        context.close()
    assert problems == []



# ---- what people do on the pages ----------------------------------------------------------

def sign_in(page, login, password):
    page.goto(page.url.split("#")[0] + "#/login")
    page.fill("#login-form input[name=login]", login)
    page.fill("#login-form input[name=password]", password)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#logout")).to_be_visible()



def go_admin(page, route):
    """Open an administrator's page from the top bar's "管理 / Admin" drop-down
    (route: "/admin/users", "/admin/mail", ...)."""
    page.click("#admin-menu button.nav-menu-button")
    link = page.locator(f"#admin-menu a[href='#{route}']")
    expect(link).to_be_visible()
    link.click()
    expect(link).to_have_attribute("aria-current", "page")


def answer_confirm(page, accept=True):
    """Answer the page's next `confirm()` without a native dialog; `confirmed(page)` then
    tells what it asked. (Playwright's "dialog" event calls back into its sync API from its
    dispatcher; with eventlet 0.41.3 monkey-patching this process - nameko's pytest plugin -
    that call never returns and the test hangs.)"""
    page.evaluate("""(accept) => {
        const original = window.confirm;
        window.__confirmed = null;
        window.confirm = (message) => {
            window.__confirmed = String(message);
            window.confirm = original;
            return accept;
        };
    }""", accept)


def confirmed(page):
    return page.evaluate("window.__confirmed")


def open_ticket_from_list(page, title):
    page.click("nav.nav a[href='#/tickets']")
    row = page.locator("tr.ticket-row", has_text=title)
    expect(row).to_have_count(1)
    row.locator("a.ticket-link").click()
    expect(page.locator("h1.ticket-title")).to_have_text(title)


def status_badge(page):
    return page.locator(".ticket-head .badge.badge-status")


def unique_title(text):
    return f"{text} {uuid.uuid4().hex[:6]}"



def fill_ticket_form(form, title, type, category, product, description):
    """The new-ticket form's required fields (`form`: the #new-ticket locator)."""
    form.locator("input[name=title]").fill(title)
    form.locator("select[name=type]").select_option(type)
    form.locator("select[name=category]").select_option(category)
    form.locator("select[name=product]").select_option(product)
    form.locator("textarea[name=description]").fill(description)


def run_action(page, action):
    page.click(f"button[data-action={action}]")
    form = page.locator(f"form.action-form[data-action={action}]")
    expect(form).to_be_visible()
    return form


# ---- a provider to work repairs --------------------------------------------------------------

@pytest.fixture
def field_service(make_field_service):
    """A product line of its own, a provider covering it and one engineer certified for it
    (the only engineer of the provider: the engineers page lists just them)."""
    return make_field_service(boss=False, lapsed=False)
