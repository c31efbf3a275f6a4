"""The downloader against a local HTTP server with injected faults."""

import time
from pathlib import Path

import pytest

from galtk.errors import DownloadError
from galtk.pipeline.sources.download import Downloader, RetryPolicy, same_site

FAST = RetryPolicy(attempts=4, backoff=0.01, max_wait=5.0, timeout=1.0)


def _downloader(tmp_path: Path, **options) -> Downloader:
    return Downloader(tmp_path / "cache", policy=options.pop("policy", FAST), **options)


def test_downloads_once_then_serves_the_cache(tmp_path: Path, fake_archive) -> None:
    fake_archive.routes["/a.fits"] = [{"body": b"SIMPLE  = T" + b" " * 100}]
    received = []
    downloader = _downloader(tmp_path, on_bytes=received.append)
    first = downloader.fetch(f"{fake_archive.url}/a.fits")
    second = downloader.fetch(f"{fake_archive.url}/a.fits")
    assert first == second and first.read_bytes().startswith(b"SIMPLE")
    assert fake_archive.hits["/a.fits"] == 1
    assert sum(received) == 111


def test_retries_server_errors_and_honours_retry_after(tmp_path: Path, fake_archive) -> None:
    fake_archive.routes["/busy"] = [
        {"status": 503, "headers": {"Retry-After": "1"}},
        {"status": 500},
        {"body": b"finally"},
    ]
    started = time.monotonic()
    path = _downloader(tmp_path).fetch(f"{fake_archive.url}/busy")
    assert path.read_bytes() == b"finally"
    assert fake_archive.hits["/busy"] == 3
    assert time.monotonic() - started >= 1.0  # waited as the server asked


def test_truncated_bodies_and_timeouts_are_retried(tmp_path: Path, fake_archive) -> None:
    fake_archive.routes["/flaky"] = [
        {"body": b"x" * 5000, "truncate": 100},
        {"body": b"y" * 10, "delay": 1.5},  # longer than the 1 s timeout
        {"body": b"z" * 5000},
    ]
    path = _downloader(tmp_path).fetch(f"{fake_archive.url}/flaky")
    assert path.read_bytes() == b"z" * 5000
    assert not list((tmp_path / "cache").rglob(".partial-*"))


def test_content_check_failures_are_retried_then_reported(tmp_path: Path, fake_archive) -> None:
    fake_archive.routes["/corrupt"] = [{"body": b"garbage"}]

    def must_be_fits(path: Path) -> None:
        if not path.read_bytes().startswith(b"SIMPLE"):
            raise ValueError("not a FITS file")

    with pytest.raises(DownloadError, match=r"content check failed: not a FITS file .*4 tries"):
        _downloader(tmp_path).fetch(f"{fake_archive.url}/corrupt", check=must_be_fits)
    assert fake_archive.hits["/corrupt"] == 4
    assert not [path for path in (tmp_path / "cache").rglob("*") if path.is_file()]  # nothing cached


def test_client_errors_fail_at_once(tmp_path: Path, fake_archive) -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        _downloader(tmp_path).fetch(f"{fake_archive.url}/missing")
    assert fake_archive.hits["/missing"] == 1


def test_a_tampered_cache_file_is_fetched_again(tmp_path: Path, fake_archive) -> None:
    fake_archive.routes["/b"] = [{"body": b"good data"}]
    downloader = _downloader(tmp_path)
    path = downloader.fetch(f"{fake_archive.url}/b")
    path.write_bytes(b"bad data!")
    assert downloader.fetch(f"{fake_archive.url}/b").read_bytes() == b"good data"
    assert fake_archive.hits["/b"] == 2


def test_cache_size_is_bounded_least_recently_used_first(tmp_path: Path, fake_archive) -> None:
    for name in "abc":
        fake_archive.routes[f"/{name}"] = [{"body": name.encode() * 1000}]
    downloader = _downloader(tmp_path, max_cache_bytes=2500)
    downloader.fetch(f"{fake_archive.url}/a")
    time.sleep(0.02)
    downloader.fetch(f"{fake_archive.url}/b")
    time.sleep(0.02)
    downloader.fetch(f"{fake_archive.url}/a")  # a is now the most recently used
    time.sleep(0.02)
    downloader.fetch(f"{fake_archive.url}/c")
    assert downloader.cache_bytes() <= 2500
    assert downloader.path_for(f"{fake_archive.url}/a").exists()
    assert not downloader.path_for(f"{fake_archive.url}/b").exists()


def test_concurrent_requests_share_one_download(tmp_path: Path, fake_archive) -> None:
    from concurrent.futures import ThreadPoolExecutor

    fake_archive.routes["/shared"] = [{"body": b"s" * 100, "delay": 0.3}]
    downloader = _downloader(tmp_path, max_connections=2)
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: downloader.fetch(f"{fake_archive.url}/shared"), range(4)))
    assert len(set(paths)) == 1 and fake_archive.hits["/shared"] == 1


def test_requests_carry_galtks_user_agent(tmp_path: Path, fake_archive) -> None:
    fake_archive.routes["/a.fits"] = [{"body": b"SIMPLE"}]
    _downloader(tmp_path).fetch(f"{fake_archive.url}/a.fits")
    assert fake_archive.request_headers["/a.fits"]["User-Agent"].startswith("galtk/")


def test_redirects_are_followed_on_the_same_site_only(tmp_path: Path, fake_archive) -> None:
    port = fake_archive.url.rsplit(":", 1)[1]
    fake_archive.routes["/moved"] = [{"status": 302, "headers": {"Location": "/new/place.fits"}}]
    fake_archive.routes["/new/place.fits"] = [{"body": b"SIMPLE"}]
    assert _downloader(tmp_path).fetch(f"{fake_archive.url}/moved").read_bytes() == b"SIMPLE"
    fake_archive.routes["/away"] = [{"status": 302, "headers": {"Location": f"http://localhost:{port}/x"}}]
    with pytest.raises(DownloadError, match=r"redirected to http://localhost:.*another site; not followed"):
        _downloader(tmp_path).fetch(f"{fake_archive.url}/away")
    fake_archive.routes["/loop"] = [{"status": 302, "headers": {"Location": "/loop"}}]
    with pytest.raises(DownloadError, match="more than 5 redirects"):
        _downloader(tmp_path).fetch(f"{fake_archive.url}/loop")


@pytest.mark.parametrize(
    ("url", "target", "same"),
    [
        ("https://data.sdss.org/sas/a", "https://dr12.sdss.org/b", True),
        ("https://ws-cadc.canfar.net/x", "https://ws-uv.canfar.net/y", True),
        ("https://data.sdss.org/a", "https://evil.example.com/a", False),
        ("http://127.0.0.1:80/a", "http://127.0.0.2/a", False),
    ],
)
def test_same_site_is_the_host_or_its_domain(url: str, target: str, same: bool) -> None:
    assert same_site(url, target) is same
