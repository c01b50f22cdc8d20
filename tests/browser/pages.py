"""Steps in the Django admin that the browser tests share."""

from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from shopkit.registry import SERVICE_NAMES as ADMINS  # noqa: F401  (re-exported for the tests)


def sign_in(page: Page, email: str, password: str, *, at: str = "/auth/admin/") -> None:
    """Open `at`, which asks a signed-out visitor to sign in, and sign in there."""
    page.goto(at)
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    submit(page, "#login-form [type=submit]")


def submit(page: Page, selector: str) -> None:
    """Click what submits a form and wait for the page that answers it."""
    with page.expect_navigation():
        page.click(selector)


def expect_signed_in(page: Page, email: str) -> None:
    """The page is an admin page for a signed-in staff member (no sign-in form)."""
    expect(page.locator("#login-form")).to_have_count(0)
    expect(page.locator("#user-tools")).to_contain_text(email)


def expect_sign_in_form(page: Page) -> None:
    expect(page.locator("#login-form")).to_be_visible()
    expect(page.locator("#user-tools")).to_have_count(0)


def sign_out(page: Page) -> None:
    """The admin's "Log out" (a POST since Django 5)."""
    submit(page, "#logout-form button")
    expect(page.locator("h1")).to_contain_text("Logged out")


def messages(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("ul.messagelist li").all_inner_texts()]


def changelist_row(page: Page, text: str):
    """The changelist row that shows `text` in one of its links (the object's own link)."""
    return page.locator("#result_list tbody tr").filter(has=page.get_by_role("link", name=text))


def run_action(page: Page, *, row_text: str, action: str) -> list[str]:
    """Tick the row showing `row_text`, choose the action by its label, Go; the messages."""
    changelist_row(page, row_text).locator("input.action-select").check()
    page.select_option("select[name=action]", label=action)
    submit(page, "button[name=index]")
    return messages(page)


def post_form(page: Page, path: str, form: dict) -> int:
    """POST a form as the signed-in browser would, with its cookies and CSRF token.

    For what the pages do not offer a user (an action on an admin one may only
    view): Django must refuse it on the server, not only hide it.
    """
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "tienda_csrftoken")
    response = page.request.post(
        path,
        form={"csrfmiddlewaretoken": token, **form},
        headers={"Origin": "{0.scheme}://{0.netloc}".format(urlsplit(page.url))},
        max_redirects=0,
    )
    return response.status
