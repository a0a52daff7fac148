"""Where a pipeline's wall time goes, stage by stage: a sampling wrapper around a Python command.

    python benchmarks/stage_sampler.py OUT.json -m pipelines.cli build --config build.yaml --out DIR

Runs the module (or script) after `OUT.json` in this process with a sampler thread that,
every `INTERVAL_S`, looks at every other thread's stack. A sample is charged to the
innermost frame that runs a method of a codepref `beam.DoFn` (the stage it names and
its class), waiting included: a stage waiting for its LLM answers or its parser child
spends wall time there. A thread outside any codepref DoFn (Beam's reads, shuffles,
coders and bookkeeping; the LLM loop thread) is charged to `outside codepref DoFns:
<thread name>` unless it is idle (waiting on a lock, a queue or a selector). The
sampler's own cost is one stack walk per thread per interval.

`OUT.json`: {"interval_s", "samples", "by_label": {label: samples}} for the threads
that did work; samples × interval are seconds of wall time of a thread.
"""

import collections
import json
import re
import runpy
import sys
import threading
import time


INTERVAL_S = 0.02
_IDLE = {
    ("threading.py", "wait"),
    ("queue.py", "get"),
    ("selectors.py", "select"),
    ("threading.py", "_wait_for_tstate_lock"),
}


def _label(frame) -> str | None:  # noqa: ANN001 - a frame
    """The codepref DoFn a stack is in (innermost first), or None."""
    import apache_beam as beam

    while frame is not None:
        obj = frame.f_locals.get("self") if frame.f_code.co_varnames[:1] == ("self",) else None
        if isinstance(obj, beam.DoFn) and not type(obj).__module__.startswith("apache_beam"):
            task = getattr(obj, "_task", None)
            if getattr(task, "stage", None):
                return f"{task.stage} (LLM stage)"
            name = f"{type(obj).__module__}.{type(obj).__qualname__}"
            stage = getattr(obj, "_stage", None)
            return f"{stage} ({name})" if isinstance(stage, str) else name
        frame = frame.f_back
    return None


def _idle(frame) -> bool:  # noqa: ANN001 - a frame
    return (frame.f_code.co_filename.rsplit("/", 1)[-1], frame.f_code.co_name) in _IDLE


def sample(counts: collections.Counter, stop: threading.Event) -> None:
    """Counts labels every `INTERVAL_S` until `stop` is set."""
    me = threading.get_ident()
    names = {}
    while not stop.wait(INTERVAL_S):
        for thread in threading.enumerate():
            names[thread.ident] = thread.name
        for ident, frame in sys._current_frames().items():
            if ident == me:
                continue
            label = _label(frame)
            if label is None:
                if _idle(frame):
                    continue
                thread = re.sub(r"[-_]\d+", "", names.get(ident, "thread"))  # Thread-22 (run): Thread (run)
                label = f"outside codepref DoFns: {thread}"
            counts[label] += 1


def main() -> None:
    out, target = sys.argv[1], sys.argv[2:]
    counts: collections.Counter = collections.Counter()
    stop = threading.Event()
    sampler = threading.Thread(target=sample, args=(counts, stop), name="stage-sampler", daemon=True)
    sampler.start()
    start = time.perf_counter()
    code = 0
    try:
        if target[0] == "-m":
            sys.argv = [target[1], *target[2:]]
            runpy.run_module(target[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = target
            runpy.run_path(target[0], run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        stop.set()
        sampler.join()
        with open(out, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "interval_s": INTERVAL_S,
                    "wall_s": time.perf_counter() - start,
                    "samples": sum(counts.values()),
                    "by_label": dict(counts.most_common()),
                },
                f,
                indent=1,
            )
    sys.exit(code)


if __name__ == "__main__":
    main()
