"""Write one benchmark's section into BENCHMARKS.md, keeping the other sections."""

import os


def replace_section(path: str, heading: str, section: str) -> None:
    """Replaces the section starting with `heading` (a `## ...` prefix) or appends it."""
    section = section.rstrip("\n") + "\n\n"
    text = "# Benchmarks\n\n"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    start = text.find(heading)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(path, "w") as f:
        f.write(text)
