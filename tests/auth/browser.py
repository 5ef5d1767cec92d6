"""A person at the authorization pages, played with httpx: sign in, pick, allow."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin

import httpx


class Form(HTMLParser):
    """The first form of a page: its action, hidden fields, checkboxes and options."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}
        self.checkboxes: list[tuple[str, str]] = []
        self.options: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action")
        elif tag == "input" and values.get("type") == "hidden":
            self.hidden[values["name"]] = values.get("value", "")
        elif tag == "input" and values.get("type") == "checkbox":
            self.checkboxes.append((values["name"], values.get("value", "")))
        elif tag == "option":
            self.options.append(values.get("value", ""))


async def sign_in_and_allow(http: httpx.AsyncClient, authorize_url: str, username: str,
                            password: str, *, patient: str | None = None,
                            keep_scopes: set[str] | None = None,
                            decision: str = "allow") -> httpx.Response:
    """From the authorize URL to the app's redirect (the response carrying code or error)."""
    page = await http.get(authorize_url)
    if page.status_code in (302, 303):
        return page
    assert page.status_code == 200, page.text
    if 'name="password"' in page.text:
        login = Form(page.text)
        page = await http.post(urljoin(authorize_url, login.action), data={
            **login.hidden, "username": username, "password": password})
        if page.status_code in (401, 429):
            return page
        assert page.status_code == 303, page.text
        page = await http.get(urljoin(authorize_url, page.headers["location"]))
        assert page.status_code == 200, page.text
    consent = Form(page.text)
    data: list[tuple[str, str]] = list(consent.hidden.items())
    data += [(n, v) for n, v in consent.checkboxes if keep_scopes is None or v in keep_scopes]
    if patient is not None:
        data.append(("patient", patient))
    data.append(("decision", decision))
    return await http.post(urljoin(authorize_url, consent.action), content=urlencode(data),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
