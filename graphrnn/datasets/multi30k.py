"""Multi30k (Elliott et al. 2016): line-aligned sentences, ``<split>.<lang>[.gz]`` in one directory.

Loaders read the published files from ``$GRAPHRNN_DATA/multi30k`` (or a directory you
pass); nothing is downloaded or copied. Any parallel corpus in the same layout works.
"""
from __future__ import annotations

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
    r"""Lines of ``<split>.<language>`` or ``<split>.<language>.gz`` in ``directory`` (the first ``limit``), read
    as every text file is (:func:`graphrnn.datasets.text.read_lines`: byte-order marks and ``\r`` dropped)."""
    from graphrnn.datasets.text import plain_or_gz
    from graphrnn.datasets.text import read_lines as read_text_lines

    base = Path(directory) / f"{split}.{language}"
    path = plain_or_gz(base)
    if path is not None:
        return read_text_lines(path, "one sentence")[:limit]
    raise FileNotFoundError(f"expected {base}.gz or {base} (one sentence per line) in {directory}")
