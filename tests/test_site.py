"""Open the built site in headless Chromium and fail if a page or a figure does not load.

Run by ``make site-check`` after ``jupyter-book build`` (marker ``site``); needs Debian's
``chromium`` and ``chromium-driver`` packages.
"""

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from rnnbook import runner

pytestmark = pytest.mark.site
ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"

BROKEN_IMAGES = """
return Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => img.getAttribute('src'));
"""


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail("no built site in _build/html: run `make site` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.fail("headless Chromium is needed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic", "--window-size=1280,900"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def pages() -> list[str]:
    docs = ["book/index"] + [ch.doc for ch in runner.chapters(ROOT)] + ["book/status"]
    return [f"{doc}.html" for doc in docs]


def notebook_figures(path: Path) -> int:
    """Figures the executed notebook shows (image outputs of cells the book does not remove)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    hidden = {"remove-output", "remove-cell"}
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code" and not hidden & set(cell.metadata.get("tags", []))
        for out in cell.get("outputs", [])
        if {"image/png", "image/svg+xml"} & set(out.get("data", {}))
    )


# Math that MathJax did not typeset: raw delimiters left in the text, or math nodes and no
# MathJax output (e.g. MathJax loaded from a CDN on a machine without internet).
UNTYPESET_MATH = """
const main = document.querySelector('main') || document.body;
const text = main.innerText;
const raw = ['\\\\(', '\\\\[', '$$'].filter(d => text.includes(d));
const math = document.querySelectorAll('.math, span.math, div.math').length;
const typeset = document.querySelectorAll('mjx-container').length;
return {raw: raw, math: math, typeset: typeset, mathjax: !!window.MathJax};
"""


# Shown code cells must not scroll sideways at the theme's default width (collapsed cells are
# exempt: they are hidden until a reader opens them).
SCROLLING_CODE = """
return Array.from(document.querySelectorAll('div.cell_input pre'))
  .filter(p => p.closest('details:not([open])') === null && p.offsetParent !== null)
  .filter(p => p.scrollWidth > p.clientWidth + 1)
  .map(p => p.textContent.split('\\n').reduce((a, l) => l.length > a.length ? l : a, '').slice(0, 60));
"""


# Tables in the page's text (the status page's scoreboard, counts and claims tables) must fit
# the text column: wider than their container means the reader scrolls sideways.
WIDE_TABLES = """
return Array.from(document.querySelectorAll('main table'))
  .filter(t => t.closest('div.cell_output') === null && t.offsetParent !== null)
  .filter(t => t.getBoundingClientRect().width > t.parentElement.clientWidth + 1)
  .map(t => (t.querySelector('th, td') || t).textContent.trim().slice(0, 40)
        + ' (' + Math.round(t.getBoundingClientRect().width) + ' > '
        + t.parentElement.clientWidth + ' px)');
"""


def test_table_check_fails_on_a_table_wider_than_the_text(server, browser):
    """A deliberately broken status page (a table of long unbreakable cells) fails the check."""
    page = HTML / "book" / "status.html"
    text = page.read_text()
    wide = "<table><tr>" + ("<td>" + "x" * 60 + "</td>") * 4 + "</tr></table>"
    bad = page.with_name("_broken_table_test.html")
    anchor = '<div class="scoreboard">'  # in the page's text, not the print-only header
    assert anchor in text
    bad.write_text(text.replace(anchor, wide + anchor, 1))
    try:
        browser.get(f"{server}/{bad.relative_to(HTML).as_posix()}")
        assert browser.execute_script(WIDE_TABLES), "the check did not see the 240-character row"
    finally:
        bad.unlink()


def test_scroll_check_fails_on_a_code_cell_that_scrolls(server, browser):
    """A deliberately broken page (one 200-character code line) fails the scroll check."""
    page = next(HTML.glob("book/core/a01_*.html"))
    text = page.read_text()
    visible = '<div class="cell docutils container">'  # an untagged (shown) code cell
    assert visible in text
    long_cell = (
        '<div class="cell docutils container"><div class="cell_input docutils container">'
        '<div class="highlight-ipython3 notranslate"><div class="highlight"><pre>'
        + "x = "
        + "1 + " * 60
        + "1"
        + "</pre></div></div></div></div>"
    )
    bad = page.with_name("_broken_width_test.html")
    bad.write_text(text.replace(visible, long_cell + visible, 1))
    try:
        browser.get(f"{server}/{bad.relative_to(HTML).as_posix()}")
        assert browser.execute_script(SCROLLING_CODE), "the check did not see the 200-character line"
    finally:
        bad.unlink()


def math_problems(browser, page: str) -> list[str]:
    """Problems with the page's math, after giving MathJax a few seconds to typeset."""
    import time

    deadline = time.time() + 15
    state = browser.execute_script(UNTYPESET_MATH)
    while state["math"] and state["typeset"] < state["math"] and time.time() < deadline:
        time.sleep(0.25)
        state = browser.execute_script(UNTYPESET_MATH)
    problems = []
    if state["raw"]:
        problems.append(f"{page}: raw math delimiters {state['raw']} left in the text")
    if state["math"] and state["typeset"] == 0:
        problems.append(f"{page}: {state['math']} math elements and no MathJax output")
    return problems


def test_math_check_fails_on_a_page_with_untypeset_math(server, browser, tmp_path):
    """A deliberately broken page (MathJax from an unreachable address) fails the math check."""
    bad = HTML / "_broken_math_test.html"
    bad.write_text(
        '<html><head><script src="http://127.0.0.1:9/mathjax.js"></script></head><body><main>'
        '<p>Inline <span class="math notranslate nohighlight">\\(x^2\\)</span>.</p></main></body></html>'
    )
    try:
        browser.get(f"{server}/_broken_math_test.html")
        problems = math_problems(browser, "_broken_math_test.html")
    finally:
        bad.unlink()
    assert any("raw math delimiters" in p for p in problems)
    assert any("no MathJax output" in p for p in problems)


@pytest.mark.parametrize("page", pages())
def test_page_loads_with_all_figures(server, browser, page):
    browser.get(f"{server}/{page}")
    assert browser.execute_script("return document.readyState") == "complete"
    title = browser.title
    assert "404" not in title and "Error" not in title, title
    broken = browser.execute_script(BROKEN_IMAGES)
    assert broken == [], f"{page}: images that did not load: {broken}"
    assert math_problems(browser, page) == []
    scrolling = browser.execute_script(SCROLLING_CODE)
    assert scrolling == [], f"{page}: code cells that scroll sideways, starting: {scrolling}"
    if page.endswith("status.html"):
        wide = browser.execute_script(WIDE_TABLES)
        assert wide == [], f"{page}: tables wider than the text: {wide}"
    if "/a" in page:
        figures = browser.execute_script(
            "return Array.from(document.images).filter(i => i.src.includes('_images')).length"
        )
        expected = notebook_figures(ROOT / page.replace(".html", ".ipynb"))
        assert figures >= max(expected, 1), f"{page}: the notebook has {expected} figures, the page {figures}"
        text = browser.find_element("tag name", "main").text
        assert "Claims" in text and "evidence" in text and "control" in text
        # the box with both profiles' verdicts (rnnbook.machine.sphinx_profiles)
        assert "This chapter in both profiles" in text, f"{page}: no profiles box"
