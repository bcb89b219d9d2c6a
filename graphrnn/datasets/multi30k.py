"""Multi30k (Elliott et al. 2016): line-aligned sentences, ``<split>.<lang>[.gz]`` in one directory.

Loaders read the published files from ``$GRAPHRNN_DATA/multi30k`` (or a directory you
pass); nothing is downloaded or copied. Any parallel corpus in the same layout works.
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import List, Optional

__all__ = ["data_directory", "read_lines", "SPLITS"]

SPLITS = ("train", "val", "test_2016_flickr")


def data_directory(name: str, directory: Optional[os.PathLike] = None) -> Path:
    """``directory``, or ``$GRAPHRNN_DATA/<name>``; a clear error when neither exists."""
    if directory is not None:
        path = Path(directory)
    elif os.environ.get("GRAPHRNN_DATA"):
        path = Path(os.environ["GRAPHRNN_DATA"]) / name
    else:
        raise FileNotFoundError(
            f"no data directory for {name}: set GRAPHRNN_DATA to the folder that holds '{name}/' "
            "(or pass --data DIR / directory=...)")
    if not path.is_dir():
        if directory is not None:
            raise FileNotFoundError(f"{path} is not a directory; --data (directory=...) must be the '{name}' folder "
                                    "itself")
        raise FileNotFoundError(f"{path} is not a directory; GRAPHRNN_DATA must point at the folder that holds "
                                f"'{name}/' (or pass --data DIR / directory=... with the '{name}' folder itself)")
    return path


def read_lines(directory: os.PathLike, split: str, language: str, limit: Optional[int] = None) -> List[str]:
    """Lines of ``<split>.<language>`` or ``<split>.<language>.gz`` in ``directory``."""
    base = Path(directory) / f"{split}.{language}"
    for path, opener in ((base.with_name(base.name + ".gz"), gzip.open), (base, open)):
        if path.is_file():
            with opener(path, "rt", encoding="utf-8") as stream:
                lines = []
                for line in stream:
                    lines.append(line.rstrip("\n"))
                    if limit is not None and len(lines) >= limit:
                        break
                return lines
    raise FileNotFoundError(f"expected {base}.gz or {base} (one sentence per line) in {directory}")
