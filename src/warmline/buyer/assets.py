"""The widget's browser files as the hub serves them: content-hashed names, gzip, ETags.

``widget.js`` (the one-line embed's loader) keeps its name and is cached briefly; it
carries the manifest of the other files, whose names include a hash of their content
(``chat.3f9a1c2b7d.js``) so they are cached for a year and a release never mixes versions.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
LOADER = "widget.js"
HASHED = {"strings": "strings.js", "app": "chat.js", "css": "widget.css"}  # role -> source file
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
MANIFEST_PLACEHOLDER = "__WARMLINE_FILES__"


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    gzipped: bytes
    content_type: str
    etag: str


def _asset(name: str, body: bytes) -> Asset:
    digest = hashlib.sha256(body).hexdigest()
    return Asset(
        name=name,
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        content_type=TYPES[Path(name).suffix],
        etag=f'"{digest[:20]}"',
    )


def hashed_name(source: str, body: bytes) -> str:
    stem, dot, ext = source.rpartition(".")
    return f"{stem}.{hashlib.sha256(body).hexdigest()[:10]}{dot}{ext}"


@dataclass(frozen=True)
class Assets:
    loader: Asset
    files: dict[str, Asset]  # hashed name -> asset
    manifest: dict[str, str]  # role -> hashed name

    @classmethod
    def load(cls, directory: Path = STATIC_DIR) -> Assets:
        files: dict[str, Asset] = {}
        manifest: dict[str, str] = {}
        for role, source in HASHED.items():
            body = (directory / source).read_bytes()
            name = hashed_name(source, body)
            files[name] = _asset(name, body)
            manifest[role] = name
        template = (directory / LOADER).read_text(encoding="utf-8")
        loader = template.replace(MANIFEST_PLACEHOLDER, json.dumps(manifest, sort_keys=True))
        return cls(loader=_asset(LOADER, loader.encode()), files=files, manifest=manifest)

    def sizes(self) -> dict[str, tuple[int, int]]:
        """name -> (raw bytes, gzipped bytes), the loader included."""
        every = [self.loader, *self.files.values()]
        return {a.name: (len(a.body), len(a.gzipped)) for a in every}


@cache
def packaged() -> Assets:
    """The installed widget files (read once per process)."""
    return Assets.load()
