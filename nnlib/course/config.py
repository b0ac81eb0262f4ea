"""Where the course lives and how nbgrader is configured for it."""

import os
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader


def find_root(start=None):
    """The course root: the nearest folder at or above `start` holding nbgrader_config.py."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file() and (folder / "source").is_dir():
            return folder
    raise SystemExit(f"no course found at or above {here}: expected nbgrader_config.py and source/")


def load_config(root, **overrides):
    """The Config of `root`/nbgrader_config.py, with `CourseDirectory` overrides applied.

    overrides: CourseDirectory traits, e.g. db_url="sqlite:////tmp/x.db".
    """
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    for key, value in overrides.items():
        setattr(config.CourseDirectory, key, value)
    return config


def assignments(root):
    """Assignment ids: the folders of source/, sorted."""
    return sorted(p.name for p in (Path(root) / "source").iterdir()
                  if p.is_dir() and not p.name.startswith((".", "_")))


def notebooks(root, assignment):
    """Notebook file names of one assignment in source/, sorted."""
    return sorted(p.name for p in (Path(root) / "source" / assignment).glob("*.ipynb"))
