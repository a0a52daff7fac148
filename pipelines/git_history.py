"""Build real git repositories from a scripted history, fast, with `git fast-import`.

The demo, the tests and the benchmarks use it to make repositories whose commits,
shas and dates are the same on every run (the dates are fixed, not the clock's).
"""

__all__ = ["GitHistory"]

import os
import subprocess
from dataclasses import dataclass, field


Path = str | bytes


def _quote(path: Path) -> bytes:
    """A path in the C-style quoted form `git fast-import` reads: any byte but NUL survives."""
    raw = path if isinstance(path, bytes) else path.encode()
    out = bytearray(b'"')
    for byte in raw:
        if byte in b'"\\':
            out += b"\\" + bytes([byte])
        elif byte < 0x20 or byte >= 0x7F:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    return bytes(out + b'"')


@dataclass
class GitHistory:
    """A scripted history, written out by `write`.

    Attributes:
        start_time: unix time of the first commit; each commit adds `step` seconds.
        step: seconds between commits.
    """

    start_time: int = 1_500_000_000
    step: int = 3600
    _stream: list[bytes] = field(default_factory=list)
    _marks: int = 0

    def commit(
        self,
        message: str | bytes,
        files: dict[Path, bytes | str | None] | None = None,
        *,
        renames: dict[Path, Path] | None = None,
        symlinks: dict[Path, str] | None = None,
        gitlinks: dict[Path, str] | None = None,
        branch: str = "main",
        parent: int | None = None,
        merge: int | None = None,
        time: int | None = None,
        encoding: str | None = None,
    ) -> int:
        """Adds a commit and returns its mark.

        Paths may hold any byte but NUL (quotes, newlines, tabs, leading dashes); a
        `bytes` path need not be UTF-8.

        Args:
            message: the commit message (may be empty); `bytes` are stored as they are.
            files: path → new contents; None deletes the path.
            renames: old path → new path.
            symlinks: path → link target.
            gitlinks: path → a commit sha, recorded as a submodule.
            branch: the branch the commit goes on.
            parent: the mark to start `branch` from (only when creating a branch).
            merge: a second parent's mark, making this a merge commit.
            time: the commit's unix time; by default the next step.
            encoding: the commit's `encoding` header (the message's encoding, as
                `i18n.commitEncoding` records it); none by default, which means UTF-8.
        """
        self._marks += 1
        when = time if time is not None else self.start_time + self._marks * self.step
        msg = message if isinstance(message, bytes) else message.encode()
        out = [
            f"commit refs/heads/{branch}\nmark :{self._marks}\n".encode(),
            f"author Dev <dev@example.com> {when} +0000\n".encode(),
            f"committer Dev <dev@example.com> {when} +0000\n".encode(),
            f"encoding {encoding}\n".encode() if encoding else b"",
            f"data {len(msg)}\n".encode() + msg + b"\n",
        ]
        if parent is not None:
            out.append(f"from :{parent}\n".encode())
        if merge is not None:
            out.append(f"merge :{merge}\n".encode())
        for old, new in (renames or {}).items():
            out.append(b"R " + _quote(old) + b" " + _quote(new) + b"\n")
        for path, data in (files or {}).items():
            if data is None:
                out.append(b"D " + _quote(path) + b"\n")
                continue
            blob = data.encode() if isinstance(data, str) else data
            out.append(b"M 100644 inline " + _quote(path) + f"\ndata {len(blob)}\n".encode() + blob + b"\n")
        for path, target in (symlinks or {}).items():
            link = target.encode()
            out.append(b"M 120000 inline " + _quote(path) + f"\ndata {len(link)}\n".encode() + link + b"\n")
        for path, sha in (gitlinks or {}).items():
            out.append(f"M 160000 {sha} ".encode() + _quote(path) + b"\n")
        self._stream.append(b"".join(out))
        return self._marks

    def write(self, path: str, *, bare: bool = False, origin: str | None = None) -> str:
        """Creates the repository at `path` (which must not exist) and returns `path`.

        Args:
            path: where to create it.
            bare: make a bare repository instead of one with a work tree.
            origin: an `origin` remote URL, which names the repository `owner/name`.
        """
        env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"}
        init = ["git", "init", "-q", "-b", "main"] + (["--bare"] if bare else []) + [path]
        subprocess.run(init, check=True, env=env)
        stream = b"".join(self._stream) + b"done\n"
        subprocess.run(["git", "-C", path, "fast-import", "--quiet", "--done"], input=stream, check=True, env=env)
        if origin:
            subprocess.run(["git", "-C", path, "remote", "add", "origin", origin], check=True, env=env)
        if not bare:
            subprocess.run(["git", "-C", path, "checkout", "-q", "-f", "main"], check=True, env=env)
        return path
