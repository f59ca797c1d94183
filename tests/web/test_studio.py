"""The studio in Debian's chromium against a real ``complaintflow serve``: a process owner edits a process,
the server's problems appear on their line and in the docked list, the diagram is drawn, and the what-if
shows the breaches a loosened deadline saves. Guarded like every page: nothing leaves 127.0.0.1 and the
console has no errors."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.browser import log_in, pages, serious_accessibility_problems

SELECT = """([old]) => {
  const view = document.querySelector('#studio-editor').cmView;
  const at = view.state.doc.toString().indexOf(old);
  if (at < 0) throw new Error('not in the editor: ' + old);
  view.dispatch({selection: {anchor: at, head: at + old.length}});
  view.focus();
}"""


def _type_over(page, old: str, new: str) -> None:
    """Select ``old`` in the editor and type ``new`` over it, key by key, as a person would."""
    page.evaluate(SELECT, [old])
    page.keyboard.type(new)


def test_a_process_owner_sees_a_bad_target_on_its_line_and_the_what_if_of_a_loosened_deadline(desk, browser, guards):
    page = next(pages(browser, guards))
    log_in(page, desk.base_url, "wang", "/studio/property_management")
    expect(page.locator("#studio-editor .cm-editor")).to_be_visible()
    expect(page.locator("#studio-diagram svg")).to_be_visible()  # Mermaid drew the deployed version
    expect(page.locator("#studio-diagram parsererror")).to_have_count(0)  # its HTML labels were not read as XML
    expect(page.locator("#studio-problems")).to_contain_text("没有问题")
    _type_over(page, "to: explaining", "to: explainign")
    expect(page.locator("#studio-problems")).to_contain_text("undefined state 'explainign'")
    expect(page.locator("#studio-problems .hint").first).to_contain_text("explaining")
    expect(page.locator("#studio-editor .cm-lintRange-error")).to_have_count(1)  # marked on its line
    expect(page.locator("#publish")).to_be_disabled()
    page.locator("#studio-problems li button").first.click()  # click-to-jump puts the cursor on the line
    expect(page.locator("#studio-editor .cm-activeLine")).to_contain_text("explainign")
    _type_over(page, "to: explainign", "to: explaining")
    _type_over(page, "within: 3m", "within: 30m")
    _type_over(page, "version: 1", "version: 2")
    expect(page.locator("#studio-changes")).to_contain_text("loosened deadline notify_3m")
    expect(page.locator("#publish")).to_be_enabled()
    page.locator("#run-what-if").click()
    row = page.locator("#what-if-table tr[data-deadline='notify_3m']")
    expect(row).to_contain_text("within 3m → within 30m")
    breaches = row.locator("td").nth(2).inner_text()
    change = int(re.search(r"\(([+-]?\d+)\)", breaches).group(1))
    assert change < 0, breaches  # the loosened deadline breaches less in the simulation
    assert serious_accessibility_problems(page) == []
