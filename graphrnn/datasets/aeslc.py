"""AESLC (Zhang & Tetreault, ACL 2019): Enron email bodies and their subject lines.

Read in its published format, straight from ``aeslc.tar.gz`` (or from the extracted folder):
``enron_subject_line/{train,dev,test}/<name>.subject``, 14,436 / 1,960 / 1,906 files. Each file
holds the email body, then a line ``@subject`` and the original subject line; dev and test
files add ``@ann0``, ``@ann1``, ``@ann2`` sections, each a subject written by an annotator
(the references the paper evaluates against). Emails are returned sorted by file name.
The corpus is CC BY-NC-SA 4.0 (research use only); nothing is copied or downloaded.
"""
from __future__ import annotations

import os
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from graphrnn.counts import is_int
from graphrnn.datasets.text import DataFormatError, decode_lines, where

__all__ = ["SPLITS", "Email", "parse_subject_file", "read_aeslc"]

SPLITS = ("train", "dev", "test")
ROOT = "enron_subject_line"
_MARKER = re.compile(r"^@(subject|ann\d+)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Email:
    """One email: its ``body``, original ``subject``, annotators' subjects (``references``, dev/test only)."""

    body: str
    subject: str
    references: list[str] = field(default_factory=list)
    name: str = ""


def parse_subject_file(text: str, name: str = "", source: str = "") -> Email:
    """Parse one ``*.subject`` file: the body, then ``@subject`` and ``@annN`` sections (a byte-order mark and
    Windows or old Mac line ends are read as the plain file). ``name`` is the file name kept in
    :attr:`Email.name`; ``source`` (default ``name``) is where it was read, named in errors.

    Raises:
        DataFormatError: naming the file (and the line of a repeated marker), for a file without ``@subject``,
            an empty body or subject (an email the summariser would learn an empty side of), or a marker
            that occurs twice (its first section would be lost).
    """
    label = source or name or "AESLC file"
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    parts = _MARKER.split(text)
    if len(parts) < 3 or parts[1] != "subject":
        raise DataFormatError(f"{label}: expected the email body, then a line '@subject' and the subject line (the "
                              "enron_subject_line/*.subject format)")
    markers = parts[1::2]
    repeated = next((marker for i, marker in enumerate(markers) if marker in markers[:i]), None)
    if repeated is not None:
        line = _marker_lines(text, repeated)[1]
        raise DataFormatError(f"{where(label, line)}: a second '@{repeated}' line; each marker starts one section, "
                              "once per file (merge the two sections, or split the file in two)")
    sections = {marker: content.strip() for marker, content in zip(markers, parts[2::2])}
    for what, content in (("body", parts[0].strip()), ("subject", sections["subject"])):
        if not content:
            raise DataFormatError(f"{label}: the {what} is empty; every email needs a body, then '@subject' and a "
                                  "non-empty subject line (drop the file, or fill it in)")
    annotations = sorted((key for key in sections if key.startswith("ann")), key=lambda key: int(key[3:]))
    return Email(body=parts[0].strip(), subject=sections["subject"], references=[sections[k] for k in annotations],
                 name=name)


def _marker_lines(text: str, marker: str) -> list[int]:
    """The 1-based line numbers of the ``@<marker>`` lines of ``text``."""
    return [number for number, line in enumerate(text.split("\n"), start=1)
            if (found := _MARKER.fullmatch(line)) is not None and found.group(1) == marker]


def _decoded(raw: bytes, name: str) -> str:
    """``raw`` as UTF-8 text; bytes that are not UTF-8 raise a :class:`DataFormatError` naming the file and line
    (they used to become U+FFFD without a word)."""
    return "\n".join(decode_lines(raw, name, "one line of an email"))


def _default_path() -> Path:
    root = os.environ.get("GRAPHRNN_DATA")
    if not root:
        raise FileNotFoundError("no AESLC path: set GRAPHRNN_DATA to the folder that holds 'aeslc.tar.gz' "
                                "(or pass the path of the archive or of the extracted folder)")
    for candidate in (Path(root) / "aeslc.tar.gz", Path(root) / "aeslc"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"neither {Path(root) / 'aeslc.tar.gz'} nor {Path(root) / 'aeslc'} exists; "
                            "GRAPHRNN_DATA must point at the folder that holds the AESLC archive")


def _read_archive(path: Path, split: str) -> dict[str, str]:
    try:
        return _read_tar(path, split)
    except (tarfile.ReadError, EOFError, OSError, zlib.error) as error:  # a text file, a truncated or damaged download
        cause = (str(error).splitlines() or [""])[0].rstrip(":")
        raise ValueError(f"{path} is not a readable tar archive ({type(error).__name__}: {cause}); pass AESLC's "
                         f"tar(.gz) with {ROOT}/{{train,dev,test}}/*.subject, or the folder it was extracted to, "
                         "or your own corpus as a .tsv file or a folder of train/val/test files") from error


def _read_tar(path: Path, split: str) -> dict[str, str]:
    files = {}
    with tarfile.open(path, "r:*") as archive:
        for member in archive:
            parts = PurePosixPath(member.name).parts
            parts = parts[1:] if parts[:1] == (".",) else parts
            if member.isfile() and parts[:2] == (ROOT, split) and len(parts) == 3 and parts[2].endswith(".subject"):
                files[parts[2]] = _decoded(archive.extractfile(member).read(), f"{path}:{member.name}")
        _check_read_to_the_end(archive, path)
    return files


def _check_read_to_the_end(archive: tarfile.TarFile, path: Path) -> None:
    """tarfile ends its listing silently at the first damaged header after the first member; what follows the
    last member read must be the end-of-archive zeros (reading it also checks a gzip stream's CRC)."""
    archive.fileobj.seek(archive.offset)
    while block := archive.fileobj.read(1 << 20):
        if block.strip(b"\0"):
            raise tarfile.ReadError(f"a damaged header (or a second archive appended) at byte {archive.offset} "
                                    f"after {len(archive.getmembers())} members; the rest of the archive cannot be "
                                    "listed (download it again, or extract it and pass the folder)")


def _read_folder(path: Path, split: str) -> dict[str, str]:
    folder = path / ROOT / split if (path / ROOT).is_dir() else path / split
    if not folder.is_dir():
        raise FileNotFoundError(f"{path} holds neither {ROOT}/{split}/ nor {split}/: pass the AESLC archive, the "
                                f"folder it was extracted to, or its {ROOT}/ folder")
    return {file.name: _decoded(file.read_bytes(), str(file)) for file in folder.glob("*.subject")}


def read_aeslc(path: os.PathLike | None, split: str, limit: int | None = None) -> list[Email]:
    """The emails of one split, sorted by file name.

    Args:
        path: ``aeslc.tar.gz`` (any tar archive of the published layout), the folder it was
            extracted to, or its ``enron_subject_line/`` folder; ``None`` means
            ``$GRAPHRNN_DATA/aeslc.tar.gz`` (or ``$GRAPHRNN_DATA/aeslc/``).
        split: ``"train"``, ``"dev"`` or ``"test"``.
        limit: keep the first ``limit`` emails (after sorting).

    Returns:
        :class:`Email` records; ``references`` is empty on train and holds the three
        annotators' subjects on dev/test.
    """
    if split not in SPLITS:
        raise ValueError(f"AESLC split must be one of {SPLITS} (the validation split is 'dev'), got {split!r}")
    if limit is not None and (not is_int(limit) or limit < 0):
        raise ValueError(f"limit must be None or a non-negative integer, got {limit!r}")
    path = _default_path() if path is None else Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: pass the AESLC archive (aeslc.tar.gz) or the extracted folder")
    files = _read_folder(path, split) if path.is_dir() else _read_archive(path, split)
    if not files:
        raise FileNotFoundError(f"no {ROOT}/{split}/*.subject files in {path}")
    names = sorted(files)[:limit]
    return [parse_subject_file(files[name], name, source=_source(path, split, name)) for name in names]


def _source(path: Path, split: str, name: str) -> str:
    """Where the file ``name`` of ``split`` was read: its path, or ``<archive>:<member>``."""
    if path.is_dir():
        folder = path / ROOT / split if (path / ROOT).is_dir() else path / split
        return str(folder / name)
    return f"{path}:{ROOT}/{split}/{name}"
