# Two entry points, each setting itself up on a fresh machine:
#   make demo   build the notebooks and grade an example class end to end
#   make test   the whole test suite (what CI runs)

VENV ?= .venv
PY := $(VENV)/bin/python
# Kernels started by nbgrader, nbclient and nbval use this environment's python3 kernel.
export JUPYTER_PATH := $(abspath $(VENV))/share/jupyter
# torch: the CPU build. A local wheel folder is used when the machine has one.
TORCH_SOURCE := $(if $(wildcard /opt/wheels/torch-2.13.0*),--find-links /opt/wheels,--extra-index-url https://download.pytorch.org/whl/cpu)

.PHONY: demo test install sandbox postgres browser clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0 $(TORCH_SOURCE)
	$(PY) -m pip install --quiet -e '.[instructor,test]'
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	touch $@

install: $(VENV)/.installed sandbox postgres browser

# Grading kernels run in bubblewrap (nnlib/course/sandbox.py). As root on Debian or Ubuntu it is
# installed here; elsewhere install it yourself, or grade with --no-sandbox (said in every output).
sandbox:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	  else echo "bubblewrap (bwrap) is missing: install it (apt-get install bubblewrap) to grade in the sandbox"; fi; }

# tests/test_cluster.py starts a PostgreSQL server of its own (initdb, pg_ctl) to hold a class
# gradebook. As root on Debian or Ubuntu it is installed here; elsewhere that test is skipped.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "PostgreSQL is missing: install it (apt-get install postgresql) to test the gradebook on a server"; fi; }

# tests/test_browser.py drives headless Chromium (Debian's package) with Playwright. As root on
# Debian it is installed here (Ubuntu's package is a snap); elsewhere that test is skipped without it.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && grep -qs '^ID=debian' /etc/os-release; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: install it (apt-get install chromium) to run the browser test"; fi; }

demo: install
	$(VENV)/bin/course demo

test: install
	$(PY) -m pytest -n 2 --dist loadfile tests solutions --nbval --nbval-sanitize-with tests/nbval_sanitize.cfg

clean:
	rm -rf build .pytest_cache
