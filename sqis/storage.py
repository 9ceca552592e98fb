"""Where files live: a local folder or an S3 prefix, behind one small interface.

``open_storage("./out")`` and ``open_storage("s3://bucket/prefix")`` give objects with
the same methods, addressed by ``/``-separated keys relative to the root. Local writes
are atomic (write to a temporary name, then rename); S3 writes are single PUTs, so a
reader sees the old object or the new one, never half of one. S3 objects are written
with server-side encryption (``SQIS_S3_SSE``) and a content type.

A local root is a boundary: a key whose path leads out of the root through a symbolic
link (a linked year folder or file in a data root, a linked ``reports/schools`` in an out
root) is refused (``OutsideRoot``) for reading, listing, writing and deleting alike. Links
that stay inside the root, and a root that is itself a link, are followed.
"""

from __future__ import annotations

import mimetypes
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from sqis.errors import USAGE, SqisError
from sqis.settings import get_settings


class StorageError(RuntimeError, SqisError):
    """A read or write that failed, with the location that failed."""

    exit_code = USAGE


class ObjectNotFound(StorageError, FileNotFoundError):
    """No file or object at that key."""


class OutsideRoot(StorageError):
    """A local key whose path leads out of its root through a symbolic link."""


def content_type(key: str) -> str:
    extra = {
        ".csv": "text/csv; charset=utf-8",
        ".ics": "text/calendar; charset=utf-8",
        ".json": "application/json",
        ".parquet": "application/vnd.apache.parquet",
        ".html": "text/html; charset=utf-8",
        ".svg": "image/svg+xml",
    }
    suffix = PurePosixPath(key).suffix.lower()
    return extra.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def safe_key(key: str) -> str:
    """Refuse keys that would escape the root (``..``, absolute paths, empty parts)."""
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise StorageError(f"refusing unsafe path {key!r}")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise StorageError(f"refusing unsafe path {key!r}")
    return key


class Storage(Protocol):
    uri: str

    def read_bytes(self, key: str) -> bytes: ...
    def write_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None: ...
    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str = "") -> list[str]: ...
    def delete(self, key: str) -> None: ...
    def copy(self, src: str, dst: str) -> None: ...
    def child(self, prefix: str) -> Storage: ...
    def local_path(self, key: str) -> Path | None: ...


@dataclass
class LocalStorage:
    root: Path

    @property
    def uri(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        return self._inside(self.root / safe_key(key))

    def _inside(self, p: Path) -> Path:
        """``p``, if following its symbolic links keeps it under the root (else refused)."""
        try:
            root = self.root.resolve()
            real = p.resolve()
        except (OSError, RuntimeError) as e:  # a link loop, a dangling link's parent, …
            raise StorageError(f"{p}: cannot resolve the path ({e})") from None
        if real != root and root not in real.parents:
            raise OutsideRoot(
                f"{p}: refusing a symbolic link that leads out of {self.root} (to {real}); "
                "copy the file into the folder instead of linking it"
            )
        return p

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def read_bytes(self, key: str) -> bytes:
        p = self._path(key)
        try:
            return p.read_bytes()
        except FileNotFoundError as e:
            raise ObjectNotFound(f"{p}: no such file") from e
        except OSError as e:
            raise StorageError(f"{p}: cannot read ({e.strerror})") from e

    def write_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        p = self._path(key)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=p.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, p)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise StorageError(f"{p}: cannot write ({e.strerror})") from e

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def list(self, prefix: str = "") -> list[str]:
        prefix = prefix.strip("/")
        base = self._path(prefix) if prefix else self.root
        if not base.exists():
            return []
        out = []
        for p in base.rglob("*"):
            if p.is_file() and not p.name.startswith(".tmp-"):
                out.append(p.relative_to(self.root).as_posix())
        return sorted(out)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def copy(self, src: str, dst: str) -> None:
        self.write_bytes(dst, self.read_bytes(src))

    def child(self, prefix: str) -> LocalStorage:
        return LocalStorage(self._path(prefix))


def local_path_inside(root: str | Path, key: str) -> Path:
    """``<root>/<key>`` for a writer that works on local paths itself (publishing): refused
    (``StorageError``/``OutsideRoot``) when the key is unsafe or a symbolic link on its
    way leads out of ``root``."""
    return LocalStorage(Path(root))._path(key)


@dataclass
class S3Storage:
    bucket: str
    prefix: str = ""
    _client: Any = field(default=None, repr=False)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = s3_client()
        return self._client

    def _key(self, key: str) -> str:
        safe_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def local_path(self, key: str) -> Path | None:
        return None

    def read_bytes(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        k = self._key(key)
        try:
            return self.client.get_object(Bucket=self.bucket, Key=k)["Body"].read()
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code", "")
            if code in ("NoSuchKey", "404", "NotFound"):
                raise ObjectNotFound(f"s3://{self.bucket}/{k}: no such object") from e
            raise StorageError(f"s3://{self.bucket}/{k}: cannot read ({code})") from e
        except BotoCoreError as e:
            raise StorageError(f"s3://{self.bucket}/{k}: cannot read ({e})") from e

    def write_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        k = self._key(key)
        extra: dict[str, Any] = {"ContentType": content_type or globals()["content_type"](key)}
        sse = get_settings().s3_sse
        if sse:
            extra["ServerSideEncryption"] = sse
        try:
            self.client.put_object(Bucket=self.bucket, Key=k, Body=data, **extra)
        except (ClientError, BotoCoreError) as e:
            raise StorageError(f"s3://{self.bucket}/{k}: cannot write ({e})") from e

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code", "") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StorageError(f"{self.uri}/{key}: cannot check ({e})") from e
        except BotoCoreError as e:  # S3 unreachable: a storage error, never botocore's own
            raise StorageError(f"{self.uri}/{key}: cannot check ({e})") from e

    def _iter(self, prefix: str) -> Iterator[str]:
        full = self._key(prefix) if prefix else self.prefix
        if full and not full.endswith("/"):
            full += "/"
        paginator = self.client.get_paginator("list_objects_v2")
        strip = len(self.prefix) + 1 if self.prefix else 0
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
            for obj in page.get("Contents", []):
                yield obj["Key"][strip:]

    def list(self, prefix: str = "") -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return sorted(self._iter(prefix))
        except (ClientError, BotoCoreError) as e:
            raise StorageError(f"{self.uri}: cannot list ({e})") from e

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as e:
            raise StorageError(f"{self.uri}/{key}: cannot delete ({e})") from e

    def copy(self, src: str, dst: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        extra: dict[str, Any] = {}
        sse = get_settings().s3_sse
        if sse:
            extra["ServerSideEncryption"] = sse
        try:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=self._key(dst),
                CopySource={"Bucket": self.bucket, "Key": self._key(src)},
                **extra,
            )
        except (ClientError, BotoCoreError) as e:
            raise StorageError(f"{self.uri}/{dst}: cannot copy from {src} ({e})") from e

    def child(self, prefix: str) -> S3Storage:
        return S3Storage(self.bucket, self._key(prefix), self._client)


def s3_client() -> Any:
    """A boto3 S3 client from settings, with standard retries (backoff on throttling/5xx)."""
    import boto3
    from botocore.config import Config

    s = get_settings()
    return boto3.client(
        "s3",
        endpoint_url=s.s3_endpoint_url,
        region_name=s.s3_region,
        config=Config(
            retries={"max_attempts": s.s3_max_attempts, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        ),
    )


def is_s3(uri: str) -> bool:
    return str(uri).startswith("s3://")


def open_storage(uri: str | Path) -> Storage:
    """A storage rooted at a local folder or an ``s3://bucket/prefix``."""
    text = str(uri)
    if is_s3(text):
        rest = text[len("s3://") :]
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise StorageError(f"{text}: no bucket named")
        return S3Storage(bucket, prefix.strip("/"))
    return LocalStorage(Path(text))
