"""What a person sees in a browser: a student's notebook in JupyterLab, a manual grade in formgrader.

Headless Chromium (the system's, Debian package `chromium`) is driven by Playwright, which
downloads no browser of its own. Each test starts its own Jupyter server on a free port of
127.0.0.1 with a token, in a temporary folder, and the page may reach nothing but that server:
every other request (a CDN, Google's hosts) is refused and listed in the test's output.
formgrader must ask for none: its grading page typesets formulas with the MathJax its server serves.

`make install` installs Chromium as root on Debian, where a missing Chromium fails the tests;
elsewhere, without Chromium, they are skipped.
"""

import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbgrader.api import Gradebook

from nnlib.course import formgrader, grade, sandbox, submissions

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Chromium run as root needs --no-sandbox; the rest keep it from calling Google's services.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _root_on_debian():
    """Where `make install` installs Chromium (its `browser` target), so a missing one is an error."""
    try:
        return os.geteuid() == 0 and platform.freedesktop_os_release().get("ID") == "debian"
    except OSError:  # no /etc/os-release: not Debian
        return False


ROOT_ON_DEBIAN = _root_on_debian()

if CHROMIUM is None and not ROOT_ON_DEBIAN:
    pytest.skip("Chromium is not installed (`apt-get install chromium`; `make install` does it as root "
                "on Debian)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402 - only where Chromium is

SERVER_START_S = 60     # until a Jupyter server answers, on a busy machine
RUN_ALL_S = 300         # the whole notebook: about 20 s alone on one core
REDRAW_S = 120          # one redraw of a demo
SAVE_S = 30             # formgrader storing a score
MATHJAX_S = 60          # MathJax typesetting formgrader's grading page

# The momentum demo of assignment 4: sliders (one named "steps"), a Run button, and a Canvas (an
# ipywidgets Output) holding two figures, which Run replaces (nnlib/topics/optimization.py, drawn
# through nnlib/widgets.py).
DEMO_ASSIGNMENT, DEMO_NOTEBOOK = "a4_optimization", "optimization.ipynb"
DEMO_CALL = "topic.momentum_widget("
DEMO_SLIDER = "steps"
# A class of one graded student, for formgrader.
GRADED_ASSIGNMENT, GRADED_STUDENT = "a1_hyperparameters", "student1"


@pytest.fixture(scope="module")
def timings(request):
    """{what: seconds} of the tests of this module; the module's run time is printed at its end."""
    start, times = time.monotonic(), {}
    yield times
    parts = "".join(f", {what} {seconds:.0f} s" for what, seconds in times.items())
    line = f"browser tests: {time.monotonic() - start:.0f} s in all{parts}"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and not hasattr(request.config, "workerinput"):
        with capture.global_and_fixture_disabled():  # as capsys.disabled() does
            reporter.write("\n")  # after the progress dots of this file
            reporter.write_line(line)
    else:  # a pytest-xdist worker's terminal is not shown: seen with -rP
        print(line)


@pytest.fixture(scope="module")
def browser(timings):
    """The system's Chromium, headless, with a fresh profile (Playwright's launch makes one)."""
    assert CHROMIUM is not None, "Chromium is not installed: `make install` installs it as root on Debian"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def refused():
    """The addresses other than 127.0.0.1 that the test's page asked for (and was refused): [str]."""
    return []


@pytest.fixture
def page(browser, refused):
    """A page that may only reach 127.0.0.1; the addresses it was refused are printed."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})

    def refuse(route):
        refused.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]|data:|blob:)"), refuse)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    if refused:
        print("requests refused (not 127.0.0.1):", *sorted(set(refused)), sep="\n  ")
    context.close()


@contextlib.contextmanager
def screenshot_on_failure(page, folder):
    """Leave a screenshot of `page` in `folder` (and say where) if the block fails."""
    try:
        yield
    except BaseException:
        shot = Path(folder) / "failure.png"
        page.screenshot(path=str(shot), full_page=True)
        print("screenshot of the page when it failed:", shot)
        raise


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyter(app, folder, config_dir, options=()):
    """`jupyter lab` or `jupyter server` serving `folder` (also its working directory, where
    formgrader reads nbgrader_config.py) on a free port of 127.0.0.1 with a token, with the
    further command-line `options` ([str]); yields (base URL, token). Its user settings and
    config are in `config_dir` (none of ~/.jupyter)."""
    port, token = _free_port(), secrets.token_hex(16)
    config_dir.mkdir(parents=True, exist_ok=True)
    # No news feed, update check or extension catalogue: nothing that would leave the machine.
    (config_dir / "jupyter_server_config.py").write_text(
        "c.LabApp.news_url = None\n"
        "c.LabApp.check_for_updates_class = 'jupyterlab.NeverCheckForUpdate'\n"
        "c.LabApp.extension_manager = 'readonly'\n")
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir),
               JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"),
               JUPYTER_RUNTIME_DIR=str(config_dir / "runtime"), IPYTHONDIR=str(config_dir / "ipython"))
    module = {"lab": "jupyterlab", "server": "jupyter_server"}[app]
    log = (config_dir / f"{app}.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", module, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         "--ServerApp.port_retries=0", "--allow-root", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={folder}", *options],
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter {app} did not answer on {url} within {SERVER_START_S} s "
                                       f"(exit code {server.poll()}); its log: {log.name}:\n"
                                       + Path(log.name).read_text()[-3000:])
                time.sleep(0.5)
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


# ---- JupyterLab: a student runs the notebook and plays with a demo ----------------------------

def choose(page, menu, command):
    """Click `menu` in JupyterLab's menu bar, then its item running `command` (a command id)."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(f"^{menu}$")).click()
    page.locator(f".lm-Menu-item[data-command='{command}']").click()


def wait_for_all_cells(page, timeout):
    """Wait until every code cell of the open notebook has run ([n]: prompts); a Run All that
    stopped on an error fails with the error shown."""
    prompts = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt")
    kernel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator")
    expect(prompts.first).to_have_text(re.compile(r"\[(\*|\d+)\]:"))  # Run All has begun
    deadline = time.monotonic() + timeout
    while True:
        texts = [t.strip() for t in prompts.all_text_contents()]  # offscreen cells have no innerText
        if texts and all(re.fullmatch(r"\[\d+\]:", t) for t in texts):
            return len(texts)
        stopped = "[*]:" not in texts and kernel.get_attribute("data-status") == "idle"
        if stopped or time.monotonic() > deadline:
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            not_run = [i for i, t in enumerate(texts) if not re.fullmatch(r"\[\d+\]:", t)]
            raise AssertionError(
                f"Run All {'stopped' if stopped else f'not done after {timeout} s'}: code cells "
                f"{not_run} of {len(texts)} not run; error output: {errors.all_text_contents()[-1:]}")
        time.sleep(0.5)


def figures(canvas):
    """The src (data: URL of the PNG) of each image in an output area, in order."""
    return canvas.locator("img").evaluate_all("images => images.map(image => image.src)")


def drag(page, slider):
    """Drag an ipywidgets slider's handle with the mouse to 20 % or 80 % of its track, whichever
    is farther; -> the slider's value (aria-valuenow) before."""
    handle = slider.get_by_role("slider")
    handle.scroll_into_view_if_needed()
    old = handle.get_attribute("aria-valuenow")
    low, high = (float(handle.get_attribute(a)) for a in ("aria-valuemin", "aria-valuemax"))
    target = 0.2 if (float(old) - low) / (high - low) > 0.5 else 0.8
    track, box = slider.locator(".noUi-base").bounding_box(), handle.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(track["x"] + target * track["width"], y, steps=10)
    page.mouse.up()
    expect(handle).not_to_have_attribute("aria-valuenow", old)
    return float(old)


@pytest.fixture
def answered_notebook(tmp_path):
    """A folder holding a copy of the demo's release notebook with every answer filled in from
    the master, as a student who has done the work has it (in the blank release the self-checks
    raise, and Run All stops at the first error)."""
    release = submissions.read(ROOT / "release" / DEMO_ASSIGNMENT / DEMO_NOTEBOOK)
    source = submissions.read(ROOT / "source" / DEMO_ASSIGNMENT / DEMO_NOTEBOOK)
    folder = tmp_path / "student"
    folder.mkdir()
    nbformat.write(submissions.solved(release, source), str(folder / DEMO_NOTEBOOK))
    return folder


def test_demo_redraws_in_its_own_cell(page, answered_notebook, tmp_path, timings):
    """In JupyterLab, after Run All, do a dragged slider and Run replace the momentum demo's
    figures inside its own cell, with no figure in the log console?"""
    start = time.monotonic()
    with jupyter("lab", answered_notebook, tmp_path / "jupyter") as (url, token), \
            screenshot_on_failure(page, tmp_path):
        page.goto(f"{url}/lab/tree/{DEMO_NOTEBOOK}?token={token}")
        kernel = page.get_by_title(f"Change kernel for {DEMO_NOTEBOOK}")
        expect(kernel).to_have_text(re.compile(r"\| Idle$"), timeout=SERVER_START_S * 1000)
        choose(page, "Run", "runmenu:run-all")
        wait_for_all_cells(page, RUN_ALL_S)

        cell = page.locator(".jp-CodeCell", has_text=DEMO_CALL)
        expect(cell).to_have_count(1)
        outputs = cell.locator(".jp-Cell-outputArea > .jp-OutputArea-child")
        canvas = cell.locator(".widget-output > .jp-OutputArea")
        expect(canvas.locator("img").first).to_be_visible()
        before = figures(canvas)

        slider = cell.locator(".widget-slider", has=page.locator("label", has_text=re.compile(f"^{DEMO_SLIDER}$")))
        old = drag(page, slider)
        new = float(slider.get_by_role("slider").get_attribute("aria-valuenow"))
        cell.locator(".widget-button", has_text=re.compile("^Run$")).click()
        deadline = time.monotonic() + REDRAW_S
        while figures(canvas) == before:
            assert time.monotonic() < deadline, f"the figures did not change within {REDRAW_S} s of Run"
            time.sleep(0.2)
        # replaced, not added to: as many figures as before (a redraw renders in a few steps)
        expect(canvas.locator("img")).to_have_count(len(before), timeout=10_000)
        after = figures(canvas)
        assert all(a != b for a, b in zip(after, before)), "some figures were not redrawn"
        assert outputs.count() == 1, f"the demo's cell has {outputs.count()} outputs, not only the demo"
        assert canvas.locator(".jp-OutputArea-output").count() == len(after), \
            "the demo's Output holds more than its figures: " + canvas.inner_text()

        choose(page, "View", "logconsole:open")
        log = page.locator(".jp-LogConsole")
        expect(log).to_be_visible()
        assert log.locator("img").count() == 0, f"figures in the log console: {log.inner_text()}"
    print(f"{DEMO_SLIDER} {old:g} -> {new:g}: {len(after)} figures redrawn in the cell")
    timings["JupyterLab"] = time.monotonic() - start


# ---- formgrader: an instructor grades a written answer -----------------------------------------

@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, timings):
    """A course folder that formgrader opens, in nbgrader's layout: one student's answered
    submission of GRADED_ASSIGNMENT graded by `course grade --out` (in the sandbox where it can run),
    which writes the gradebook, submitted/, autograded/ and the nbgrader_config.py formgrader reads.

    -> SimpleNamespace(root, db_url, assignment, notebook, student). Where the class gradebook
    and formgrader's course folder come from is set here only."""
    start = time.monotonic()
    root = tmp_path_factory.mktemp("class")
    assignment, student = GRADED_ASSIGNMENT, GRADED_STUDENT
    (name,) = [p.name for p in (ROOT / "source" / assignment).glob("*.ipynb")]
    release = submissions.read(ROOT / "release" / assignment / name)
    source = submissions.read(ROOT / "source" / assignment / name)
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(submissions.solved(release, source), str(folder / name))
    (result,) = grade.grade(ROOT, [assignment], root / "submitted", root, workers=1, timeout=60,
                            progress=False, log=lambda *_: None, sandboxed=sandbox.unavailable() is None)
    assert result.status == grade.GRADED, result
    # course grade wrote <out>/nbgrader_config.py: this folder as the course root for nbgrader and
    # formgrader, the course's source/ (formgrader lists the assignments it finds there), an exchange
    assert (root / "nbgrader_config.py").is_file() and (root / "exchange").is_dir()
    timings["grading the class"] = time.monotonic() - start
    return SimpleNamespace(root=root, db_url=f"sqlite:///{root / 'gradebook.db'}", assignment=assignment,
                           notebook=Path(name).stem, student=student)


def written_answers(gradebook, course):
    """Grades (nbgrader.api.Grade) of the written answers of the graded class's one submission."""
    notebook = gradebook.find_submission_notebook(course.notebook, course.assignment, course.student)
    return [g for g in notebook.grades if g.cell.cell_type == "markdown"]


def test_formgrader_typesets_offline_and_stores_a_manual_grade(page, refused, graded_class, tmp_path, timings):
    """On formgrader's Manual Grading page, in a server started as `course formgrader` starts it
    and with nothing but that server to reach: does MathJax typeset the formulas of a written
    answer, and does formgrader's script work (its keyboard navigation)? Does a score typed there
    for that answer end in the class gradebook (read with nbgrader's Gradebook API) as its
    manual score?"""
    start = time.monotonic()
    course = graded_class
    with Gradebook(course.db_url) as gradebook:
        answers = written_answers(gradebook, course)
        assert answers, f"{course.assignment} has no written answer to grade by hand"
        answer = answers[0]
        grade_id, max_score = answer.name, answer.max_score
        assert answer.needs_manual_grade and answer.manual_score is None, answer.to_dict()
    score = max_score / 2
    failed = []  # "status URL" of each request the server answered with an error
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))

    with jupyter("server", course.root, tmp_path / "jupyter", formgrader.extension_args()) as (url, token), \
            screenshot_on_failure(page, tmp_path):
        page.goto(f"{url}/formgrader/gradebook?token={token}")
        page.get_by_role("link", name=course.assignment, exact=True).click()
        page.get_by_role("link", name=course.notebook, exact=True).click()
        page.get_by_role("link", name=re.compile(r"^\s*Submission #1\s*$")).click()
        field = page.locator(f"input.score[id='{grade_id}']")
        # formgrader marks the answer as waiting for a person once it has loaded its grades
        # (before that, a typed score is not saved)
        expect(field).to_have_class(re.compile(r"\bneeds_manual_grade\b"))

        # MathJax, from the server, typesets the answer's formulas: its elements, none of its
        # errors, no TeX left as written
        written = page.locator(".nbgrader_cell", has=field).locator(".text_cell_render")
        expect(written.locator(".MathJax").first).to_be_visible(timeout=MATHJAX_S * 1000)
        formulas = written.locator(".MathJax").count()
        expect(page.locator(".MathJax_Error")).to_have_count(0)
        text = written.inner_text()
        assert "$" not in text and "\\" not in text, f"TeX left as written in the answer: {text}"
        # formgrader's script ran on past MathJax: once MathJax is done it focuses the first score
        # or comment field, and its keyboard manager takes Shift+Tab from there round to the last
        fields = page.locator(".tabbable")
        expect(fields.first).to_be_focused(timeout=MATHJAX_S * 1000)
        page.keyboard.press("Shift+Tab")
        expect(fields.last).to_be_focused()

        with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url
                                  and r.request.method == "PUT", timeout=SAVE_S * 1000) as saved:
            field.fill(f"{score:g}")
            field.press("Tab")  # formgrader saves a score when its field changes
        assert saved.value.ok, f"formgrader did not store the score: {saved.value.status} {saved.value.text()}"
    assert not refused, f"formgrader's pages asked for addresses outside the machine: {refused}"
    assert not failed, f"requests formgrader's server answered with an error: {failed}"

    with Gradebook(course.db_url) as gradebook:
        stored = gradebook.find_grade(grade_id, course.notebook, course.assignment, course.student)
        assert stored.manual_score == score and not stored.needs_manual_grade, stored.to_dict()
    print(f"{course.assignment} {grade_id}: {formulas} formulas typeset offline; "
          f"{score:g}/{max_score:g} stored for {course.student}")
    timings["formgrader"] = time.monotonic() - start
