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
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

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


def parse_subject_file(text: str, name: str = "") -> Email:
    """Parse one ``*.subject`` file: the body, then ``@subject`` and ``@annN`` sections (a byte-order mark and
    Windows or old Mac line ends are read as the plain file)."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    parts = _MARKER.split(text)
    if len(parts) < 3 or parts[1] != "subject":
        raise ValueError(f"{name or 'AESLC file'}: expected the email body, then a line '@subject' and the subject "
                         "line (the enron_subject_line/*.subject format)")
    sections = {marker: content.strip() for marker, content in zip(parts[1::2], parts[2::2])}
    annotations = sorted((key for key in sections if key.startswith("ann")), key=lambda key: int(key[3:]))
    return Email(body=parts[0].strip(), subject=sections["subject"], references=[sections[k] for k in annotations],
                 name=name)


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
    except (tarfile.ReadError, EOFError) as error:  # a text file, a truncated download, a zip
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
                files[parts[2]] = archive.extractfile(member).read().decode("utf-8", errors="replace")
    return files


def _read_folder(path: Path, split: str) -> dict[str, str]:
    folder = path / ROOT / split if (path / ROOT).is_dir() else path / split
    if not folder.is_dir():
        raise FileNotFoundError(f"{path} holds neither {ROOT}/{split}/ nor {split}/: pass the AESLC archive, the "
                                f"folder it was extracted to, or its {ROOT}/ folder")
    return {file.name: file.read_text(encoding="utf-8", errors="replace") for file in folder.glob("*.subject")}


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
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be None or a non-negative integer, got {limit!r}")
    path = _default_path() if path is None else Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: pass the AESLC archive (aeslc.tar.gz) or the extracted folder")
    files = _read_folder(path, split) if path.is_dir() else _read_archive(path, split)
    if not files:
        raise FileNotFoundError(f"no {ROOT}/{split}/*.subject files in {path}")
    names = sorted(files)[:limit]
    return [parse_subject_file(files[name], name) for name in names]
