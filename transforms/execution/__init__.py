"""Execution-verified Functional Correctness pairs: a planted bug must really break the tests.

Modules, from the machine up:

* `sandbox`: one command in a sandboxed child process (namespaces, resource
  limits, timeout, output caps, scrubbed environment);
* `languages`: each language's file layout, build and test commands, and the
  shape its tests take (`harness/` holds the Python and node harnesses);
* `run`: one program against its tests → a `Verdict` (passed, assertion, error, timeout);
* `verify`: the keep rule (solution passes, a candidate bug fails) and its reasons;
* `report`: the manifest's `execution` section (kill rates per language and operator);
* `stage`: `VerifyByExecution`, the Beam composite over `verify`.

Only `stage` imports Beam.
"""
