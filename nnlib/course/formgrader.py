"""nbgrader's formgrader on the output folder of `course grade`, its Autograde button sandboxed.

    course formgrader [--out DIR] [--port N]

starts JupyterLab in DIR (default: the course root) with this server extension instead of
nbgrader's own: the same formgrader (nbgrader's handlers, settings and pages), except that
Autograde runs `course grade ASSIGNMENT --student STUDENT --force` on DIR, so a submission is
graded as every other one is (intake, repair, the sandbox, the limits), never by plain nbgrader
in the server's own process. Generate Feedback and Release work as nbgrader has them, on DIR.

Formulas on the grading pages are typeset by MathJax served by the same Jupyter server
(jupyter-server-mathjax, enabled in `launch`), never loaded from a CDN: the course's
nbgrader_config.py puts TEMPLATES before nbgrader's own templates (NBGRADER_TEMPLATES), and
TEMPLATES/formgrade/index.html.j2 is nbgrader's grading page with the local MathJax.
"""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from jupyter_server.utils import url_path_join
from nbgrader.server_extensions.formgrader import apihandlers, handlers
from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension
from tornado import web

AUTOGRADE = r"/formgrader/api/submission/([^/]+)/([^/]+)/autograde"
# The course's template overrides (str, as HTMLExporter's extra_template_basedirs takes), and
# nbgrader's formgrader templates, which they extend.
TEMPLATES = str(Path(__file__).with_name("templates"))
NBGRADER_TEMPLATES = handlers.template_path
# The server extensions `course formgrader` runs: {name: enabled}. jupyter_server_mathjax serves
# MathJax at <base_url>/static/jupyter_server_mathjax/ (the address TEMPLATES' page loads).
SERVER_EXTENSIONS = {"nbgrader.server_extensions.formgrader": False, "nnlib.course.formgrader": True,
                     "jupyter_server_mathjax": True}


def course_root(coursedir):
    """The course whose output folder `coursedir` (nbgrader's CourseDirectory) is: Path.

    In an output folder, <out>/nbgrader_config.py gives source/ as an absolute path in the course.
    """
    source = Path(coursedir.source_directory)
    return source.parent if source.is_absolute() else Path(coursedir.root)


def regrade(assignment, student, out, root):
    """Grade one submission again with `course grade` (a separate process): nbgrader's result
    dict ({"success", "log", "error"}), as formgrader's Autograde button expects."""
    argv = [sys.executable, "-m", "nnlib.course.cli", "--root", str(root), "grade", assignment,
            "--student", student, "--submitted", str(Path(out) / "submitted"), "--out", str(out),
            "--force", "--quiet"]
    done = subprocess.run(argv, capture_output=True, text=True)
    log = done.stdout + done.stderr
    if done.returncode:
        return {"success": False, "error": f"course grade ended with status {done.returncode}", "log": log}
    return {"success": True, "log": log}


class CourseAutogradeHandler(apihandlers.BaseApiHandler):
    """formgrader's Autograde button: `course grade` for that submission (see module)."""

    @web.authenticated
    @apihandlers.check_xsrf
    @apihandlers.check_notebook_dir
    async def post(self, assignment_id, student_id):
        # in a thread: grading takes seconds to minutes, the server keeps answering meanwhile
        result = await asyncio.to_thread(regrade, assignment_id, student_id, Path(self.coursedir.root),
                                         course_root(self.coursedir))
        self.write(json.dumps(result))


def _jupyter_server_extension_points():
    return [{"module": "nnlib.course.formgrader"}]


def _load_jupyter_server_extension(server):
    """nbgrader's formgrader (its settings, handlers and pages) with the course's Autograde."""
    webapp = server.web_app
    formgrader = FormgradeExtension(parent=server)
    formgrader.root_dir = server.root_dir
    formgrader.log = server.log
    formgrader.initialize([])
    formgrader.init_tornado_settings(webapp)
    routes = [(AUTOGRADE, CourseAutogradeHandler), *handlers.default_handlers, *apihandlers.default_handlers,
              (r"/formgrader/static/(.*)", web.StaticFileHandler, {"path": handlers.static_path}),
              (r"/formgrader/.*", handlers.Template404)]
    base = webapp.settings["base_url"]
    webapp.add_handlers(".*$", [(url_path_join(base, r[0].lstrip("/")), *r[1:]) for r in routes])
    server.log.info("formgrader of the course loaded; Autograde runs `course grade`")


def extension_args():
    """Jupyter server options that enable SERVER_EXTENSIONS: [str]."""
    return [f"--ServerApp.jpserver_extensions={name}={on}" for name, on in SERVER_EXTENSIONS.items()]


def launch(out, port=None, open_browser=True):
    """Run JupyterLab in `out` (Path) with this formgrader; returns its exit status."""
    argv = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={out}", *extension_args()]
    if os.geteuid() == 0:   # course grade's sandbox needs root: so does the Autograde it runs
        argv.append("--allow-root")
    if port:
        argv.append(f"--ServerApp.port={port}")
    if not open_browser:
        argv.append("--no-browser")
    return subprocess.call(argv, cwd=out)
