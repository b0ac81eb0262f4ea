"""Worker processes that survive their own deaths: a dead worker is replaced and its job run again.

    with Pool(function, workers, initializer, initargs, log) as pool:
        for done in pool.run({key: arg, ...}):   # one Done per key, in the order they finish
            done.key, done.value, done.error

Each worker is a spawned process that runs one job at a time, so when a worker dies the job it
was running is known exactly; no other job is touched. The worker is replaced and that job run
again later, alone (no other job running, so nothing else can have caused a second death); a
job whose worker dies a second time is given up, with the reason in `done.error`. A worker that
dies while idle is replaced without blaming anyone. Leaving the `with` block normally lets the
workers exit; leaving it by an exception (KeyboardInterrupt) kills them all first.
"""

import multiprocessing
import signal
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait

DEATHS_ALLOWED = 1      # deaths a job may cause before it is given up (the next one is final)
STOP_SECONDS = 10       # how long an idle worker may take to exit when asked


@dataclass
class Done:
    """The outcome of one job: `value` returned by the function, or `error` (str) saying why not."""
    key: str
    value: object = None
    error: str = ""


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: object                # multiprocessing.connection.Connection to the worker
    key: str | None = None      # the job it is running, None while idle


def _serve(conn, function, initializer, initargs):
    """A worker's main loop: run the (key, arg) jobs the parent sends until it sends None or goes."""
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            task = conn.recv()
        except EOFError:        # the parent is gone: nobody to report to
            return
        if task is None:
            return
        key, arg = task
        try:
            done = Done(key, function(arg))
        except Exception as exc:    # a fault of this job only: reported for it, the worker goes on
            done = Done(key, error=f"the grader failed on it: {type(exc).__name__}: {exc}")
        conn.send(done)


def how_it_ended(exitcode):
    """Words for a process's end from its exit code (int or None): 'was killed by SIGKILL'..."""
    if exitcode is None:
        return "is gone"
    if exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


class Pool:
    """`workers` spawned processes running `function(arg)`; see the module docstring."""

    def __init__(self, function, workers, initializer=None, initargs=(), log=print):
        self.function, self.size = function, max(1, int(workers))
        self.initializer, self.initargs, self.log = initializer, tuple(initargs), log
        self.context = multiprocessing.get_context("spawn")
        self.workers = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(kill=exc_type is not None)

    def run(self, tasks):
        """Run the jobs {key (str): arg}; yields a Done for each key as it finishes."""
        queue, deaths = deque(tasks), dict.fromkeys(tasks, 0)
        while queue or self._busy():
            self._dispatch(queue, tasks, deaths)
            if self._busy():
                yield from self._collect(queue, deaths)

    def close(self, kill=False):
        """Stop every worker: idle ones are asked to exit, busy ones (or all, if `kill`) are killed."""
        for w in self.workers:
            if kill or w.key is not None or not self._ask_to_stop(w):
                w.process.kill()
        for w in self.workers:
            w.process.join(STOP_SECONDS)
            if w.process.is_alive():
                self.log(f"worker process {w.process.pid} did not exit when asked; killed")
                w.process.kill()
                w.process.join()
            w.conn.close()
        self.workers = []

    def _busy(self):
        return [w for w in self.workers if w.key is not None]

    def _dispatch(self, queue, tasks, deaths):
        """Hand queued jobs to idle workers: first-time jobs first; a retried job only runs alone."""
        if any(deaths[w.key] for w in self._busy()):
            return
        for key in sorted(queue, key=lambda k: deaths[k] > 0):
            if deaths[key] and self._busy():
                return
            worker = self._idle_worker()
            if worker is None:
                return
            queue.remove(key)
            if not self._send(worker, key, tasks[key]):
                queue.appendleft(key)
                return
            if deaths[key]:
                return

    def _idle_worker(self):
        """An idle live worker, a new one if there are fewer than `size`, or None."""
        for w in list(self.workers):
            if w.key is None:
                if w.process.is_alive():
                    return w
                self._drop(w, "while idle; nobody is blamed")
        if len(self.workers) >= self.size:
            return None
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=_serve, args=(theirs, self.function, self.initializer, self.initargs),
                                       name="grading-worker")
        process.start()
        theirs.close()
        self.workers.append(_Worker(process, ours))
        return self.workers[-1]

    def _send(self, worker, key, arg):
        """Give `worker` the job; False (worker dropped, nobody blamed) if it died while idle."""
        try:
            worker.conn.send((key, arg))
        except OSError as exc:
            self._drop(worker, f"before it could start {key} ({type(exc).__name__}); nobody is blamed")
            return False
        worker.key = key
        return True

    def _collect(self, queue, deaths):
        """Wait until a busy worker answers or any worker dies; yield the jobs that are done."""
        ready = set(wait([w.conn for w in self._busy()] + [w.process.sentinel for w in self.workers]))
        for w in list(self.workers):
            if w.key is not None and w.conn in ready:
                try:
                    done = w.conn.recv()
                except (EOFError, OSError):
                    yield from self._died(w, queue, deaths)
                    continue
                w.key = None
                yield done
            elif w.process.sentinel in ready:
                yield from self._died(w, queue, deaths)

    def _died(self, worker, queue, deaths):
        """A worker died: replace it later; its job runs again alone, or is given up the second time."""
        key = worker.key
        if key is None:
            self._drop(worker, "while idle; nobody is blamed")
            return
        alone = len(self._busy()) == 1
        how = self._drop(worker, f"while running {key}")
        deaths[key] += 1
        if deaths[key] > DEATHS_ALLOWED:
            self.log(f"{key}: its worker process died {deaths[key]} times; given up")
            yield Done(key, error=f"its grading process died {deaths[key]} times while grading it"
                                  f"{', the last time with nothing else running' if alone else ''} ({how})")
        else:
            self.log(f"{key} will be run again, on its own")
            queue.append(key)

    def _drop(self, worker, when):
        """Forget a dead worker (logging `when` it died); -> how it ended."""
        worker.process.join(STOP_SECONDS)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        how = how_it_ended(worker.process.exitcode)
        self.log(f"worker process {worker.process.pid} {how} {when}; a new one replaces it")
        worker.conn.close()
        self.workers.remove(worker)
        return how

    @staticmethod
    def _ask_to_stop(worker):
        """Send an idle worker the stop message; False if it is already gone."""
        try:
            worker.conn.send(None)
        except OSError:
            return False
        return True
