"""What every browser test does: a page in its own context that records the
Content-Security-Policy violations it meets, and the one login page."""

from __future__ import annotations


def open_page(browser, width: int, height: int | None = None, **options):
    """A new context and page at ``width`` px, in Vietnamese unless ``locale`` says otherwise;
    returns (context, page, violations): the list fills with every CSP violation reported."""
    height = height or (844 if width < 600 else 900)
    context = browser.new_context(
        locale=options.pop("locale", "vi-VN"),
        viewport={"width": width, "height": height},
        **options,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return context, page, violations


def log_in(page, base_url: str, username: str, password: str) -> None:
    """Through the one login page, as a person would."""
    page.goto(base_url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()
