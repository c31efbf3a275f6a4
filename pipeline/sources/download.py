"""Polite, resumable downloading with an on-disk cache, for the archive sources.

- At most ``max_connections`` requests are in flight at once, whatever the number of worker threads.
- Timeouts, connection errors, truncated bodies, HTTP 429 and 5xx answers and files that fail their content
  check are retried with exponential backoff; a ``Retry-After`` header (seconds or an HTTP date) is honoured.
  Other HTTP errors (404...) fail at once. Every failure ends in a :class:`DownloadError` naming the URL and
  the last reason, which callers record per object.
- Files are cached under ``cache_dir`` with a sidecar recording their URL, size and SHA-256; a cached file is
  used only if it still matches (content-checked), else it is fetched again. Downloads go to a temporary file
  that is renamed into place once complete and checked, so a killed run never leaves a partial file in the
  cache. When ``max_cache_bytes`` is set, the least recently used files are evicted to stay under it.
- Concurrent requests for the same URL download it once.
"""

from __future__ import annotations

import email.utils
import hashlib
import ipaddress
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import requests

from galtk import __version__
from galtk.errors import DownloadError

log = logging.getLogger(__name__)

USER_AGENT = f"galtk/{__version__} (+astronomical cutout builder)"
#: Most redirects a download follows.
MAX_REDIRECTS = 5
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try.

    Parameters
    ----------
    attempts : int
        Total tries per URL.
    backoff : float
        First wait in seconds; doubled after each failure.
    max_wait : float
        Longest wait between tries, including waits asked for by ``Retry-After``.
    timeout : float
        Seconds to wait for the server to answer (and between bytes of the body).
    """

    attempts: int = 5
    backoff: float = 1.0
    max_wait: float = 120.0
    timeout: float = 60.0


class _Retryable(Exception):
    """A failure worth another try; ``wait`` is the server's Retry-After, if it gave one."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class Downloader:
    """Download files into a content-checked cache.

    Parameters
    ----------
    cache_dir : Path
        Cache directory (created if needed).
    max_connections : int
        Requests in flight at once.
    max_cache_bytes : int, optional
        Size bound of the cache; least recently used files are evicted beyond it.
    policy : RetryPolicy
        Retries, backoff and timeout.
    on_bytes : callable, optional
        Called with the number of bytes received, as they arrive (for progress bars).
    session : requests.Session, optional
        Session to use (one per downloader by default).
    """

    def __init__(
        self,
        cache_dir: str | Path,
        *,
        max_connections: int = 4,
        max_cache_bytes: int | None = None,
        policy: RetryPolicy | None = None,
        on_bytes: Callable[[int], None] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.max_cache_bytes = max_cache_bytes
        self.policy = policy or RetryPolicy()
        self.on_bytes = on_bytes
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT  # a new Session already has requests' own
        self._connections = threading.BoundedSemaphore(max_connections)
        self._url_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._evict_guard = threading.Lock()
        self.requests_made = 0

    def fetch(self, url: str, *, check: Callable[[Path], None] | None = None) -> Path:
        """Return the path of a cached copy of ``url``, downloading it if needed.

        Parameters
        ----------
        url : str
            File to get.
        check : callable, optional
            Content check: raises (any exception) if the downloaded file is unusable, e.g. corrupt FITS; the
            download is then retried.

        Returns
        -------
        Path
            The cached file (do not modify it).

        Raises
        ------
        DownloadError
            If every try failed, or the server answered with a non-retryable error.
        """
        with self._lock_for(url):
            path = self._cached(url)
            if path is not None:
                self._touch(path)
                return path
            path = self._download_with_retries(url, check)
        self._evict()
        return path

    # ------------------------------------------------------------------ cache
    def path_for(self, url: str) -> Path:
        """Where ``url`` is (or would be) cached."""
        key = hashlib.sha256(url.encode()).hexdigest()
        return self.cache_dir / key[:2] / key

    def _cached(self, url: str) -> Path | None:
        path = self.path_for(url)
        sidecar = path.with_suffix(".json")
        if not (path.is_file() and sidecar.is_file()):
            return None
        try:
            record = json.loads(sidecar.read_text())
            if (
                record["url"] == url
                and record["size"] == path.stat().st_size
                and record["sha256"] == _sha256(path)
            ):
                return path
        except (OSError, ValueError, KeyError):
            pass
        log.warning("cached copy of %s does not match its record; downloading it again", url)
        path.unlink(missing_ok=True)
        sidecar.unlink(missing_ok=True)
        return None

    def _touch(self, path: Path) -> None:
        now = time.time()
        os.utime(path, (now, path.stat().st_mtime))

    def cache_bytes(self) -> int:
        """Total size of the cached files."""
        return sum(path.stat().st_size for path in self._cached_files())

    def _cached_files(self) -> list[Path]:
        return [path for path in self.cache_dir.glob("??/*") if path.is_file() and not path.suffix]

    def _evict(self) -> None:
        if self.max_cache_bytes is None:
            return
        with self._evict_guard:
            files = sorted(self._cached_files(), key=lambda path: path.stat().st_atime)
            total = sum(path.stat().st_size for path in files)
            for path in files[:-1]:  # never evict the file just fetched
                if total <= self.max_cache_bytes:
                    break
                total -= path.stat().st_size
                path.with_suffix(".json").unlink(missing_ok=True)
                path.unlink(missing_ok=True)

    def _lock_for(self, url: str) -> threading.Lock:
        with self._locks_guard:
            return self._url_locks.setdefault(url, threading.Lock())

    # ------------------------------------------------------------------ downloading
    def _download_with_retries(self, url: str, check: Callable[[Path], None] | None) -> Path:
        policy = self.policy
        reason = "no attempt made"
        for attempt in range(1, policy.attempts + 1):
            try:
                return self._download_once(url, check)
            except _Retryable as failure:
                reason = str(failure)
                if attempt == policy.attempts:
                    break
                wait = failure.wait if failure.wait is not None else policy.backoff * 2 ** (attempt - 1)
                wait = min(wait, policy.max_wait)
                log.info("%s: %s; try %d of %d in %.1f s", url, reason, attempt + 1, policy.attempts, wait)
                time.sleep(wait)
        raise DownloadError(f"{url}: {reason} (gave up after {policy.attempts} tries)")

    def _download_once(self, url: str, check: Callable[[Path], None] | None) -> Path:
        target = self.path_for(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        temporary_path = Path(temporary)
        try:
            with os.fdopen(handle, "wb") as stream:
                expected = self._stream(url, stream)
            received = temporary_path.stat().st_size
            if expected is not None and received != expected:
                raise _Retryable(f"truncated body ({received} of {expected} bytes)")
            if check is not None:
                try:
                    check(temporary_path)
                except Exception as error:  # the check decides what unusable means
                    raise _Retryable(f"content check failed: {error}") from None
            record = {"url": url, "size": received, "sha256": _sha256(temporary_path), "fetched": time.time()}
            os.replace(temporary_path, target)
            target.with_suffix(".json").write_text(json.dumps(record))
            return target
        finally:
            temporary_path.unlink(missing_ok=True)

    def _get_following_redirects(self, url: str) -> requests.Response:
        """GET ``url``, following up to :data:`MAX_REDIRECTS` redirects, all on its site (:func:`same_site`).

        Raises
        ------
        DownloadError
            If a redirect leads to another site, or there are too many.
        """
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = self._session.get(
                    current, stream=True, timeout=self.policy.timeout, allow_redirects=False
                )
            except (requests.Timeout, requests.ConnectionError) as error:
                raise _Retryable(f"{type(error).__name__}: {error}") from None
            if not response.is_redirect:
                return response
            target = urljoin(current, response.headers.get("Location", ""))
            response.close()
            if not same_site(url, target):
                raise DownloadError(f"{url}: redirected to {target}, another site; not followed")
            current = target
        raise DownloadError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _stream(self, url: str, stream: BinaryIO) -> int | None:
        with self._connections:
            self.requests_made += 1
            response = self._get_following_redirects(url)
            with response:
                if response.status_code == 429 or response.status_code >= 500:
                    raise _Retryable(f"HTTP {response.status_code}", _retry_after(response))
                if response.status_code >= 400:
                    raise DownloadError(f"{url}: HTTP {response.status_code} {response.reason}")
                length = response.headers.get("Content-Length")
                try:
                    for block in response.iter_content(_CHUNK):
                        stream.write(block)
                        if self.on_bytes:
                            self.on_bytes(len(block))
                except (requests.RequestException, OSError) as error:
                    raise _Retryable(f"{type(error).__name__} while reading the body") from None
                encoded = response.headers.get("Content-Encoding", "identity") != "identity"
                return int(length) if length and length.isdigit() and not encoded else None


def same_site(url: str, target: str) -> bool:
    """Whether a redirect from ``url`` to ``target`` stays on the same site: the same host, or a host of the
    same domain (the last two labels of the name, e.g. ``sdss.org`` or ``canfar.net``)."""
    here, there = urlsplit(url).hostname or "", urlsplit(target).hostname or ""
    if here == there:
        return True
    if not here or not there or _is_address(here) or _is_address(there):
        return False
    return here.split(".")[-2:] == there.split(".")[-2:]


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()
