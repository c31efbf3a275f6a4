"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from galtk.pipeline.synthetic.catalog import SimSkyParams
from galtk.pipeline.synthetic.source import SimImagingParams
from galtk.pipeline.workspace import CONFIG_NAME, default_config, render_config

sys.path.insert(0, str(Path(__file__).parent / "support"))  # test doubles of the archives


def write_sim_workspace(
    root: Path,
    *,
    sky: dict | None = None,
    imaging: dict | None = None,
    fetch: dict | None = None,
) -> Path:
    """Write a synthetic-sky galtk.toml in ``root`` with some settings replaced; return ``root``."""
    config = default_config(sim=True)
    config.sim_sky = dataclasses.replace(SimSkyParams(), **(sky or {}))
    config.sim_imaging = dataclasses.replace(SimImagingParams(), **(imaging or {}))
    config.fetch = dataclasses.replace(config.fetch, **(fetch or {}))
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(render_config(config), encoding="utf-8")
    return root


@pytest.fixture
def sim_workspace(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``sim_workspace(name, sky={...}, imaging={...}, fetch={...})`` writes a small workspace."""

    def make(name: str = "ws", **settings: dict) -> Path:
        settings.setdefault("sky", {})
        settings["sky"] = {"n_objects": 120, **settings["sky"]}
        return write_sim_workspace(tmp_path / name, **settings)

    return make


class QueryParameters(dict):
    """Request parameters: the last value of each name, and every value through :meth:`getall`."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        self._all: dict[str, list[str]] = {}
        for name, value in pairs:
            self._all.setdefault(name, []).append(value)

    @classmethod
    def parse(cls, *encoded: str) -> QueryParameters:
        """Parameters of URL-encoded strings (a query string, a form body), in order."""
        from urllib.parse import parse_qsl

        return cls([pair for text in encoded for pair in parse_qsl(text, keep_blank_values=True)])

    def getall(self, name: str) -> list[str]:
        """Every value of ``name``, in request order (empty if absent)."""
        return list(self._all.get(name, []))


class FakeArchive:
    """A local HTTP server on 127.0.0.1 with programmable answers and faults.

    ``routes[path]`` is a list of answers served in turn (the last one repeats); an answer is a dict with
    ``body`` (bytes), and optionally ``status``, ``headers``, ``delay`` (seconds before answering) and
    ``truncate`` (send only that many bytes of the body while announcing its full length), or a callable
    taking the request's query parameters (a dict of str) and returning such a dict. ``prefixes[prefix]``
    is a callable taking (path, parameters) for every path starting with ``prefix``. GET and POST are
    answered alike; a POST's form fields (``application/x-www-form-urlencoded``) join its query
    parameters. Parameters are a :class:`QueryParameters`: a dict holding the last value of each name,
    whose ``getall(name)`` lists every value of a repeated name. ``request_headers[path]`` holds the headers
    of the last request of each path.
    """

    def __init__(self) -> None:
        import http.server
        import threading

        self.routes: dict[str, list] = {}
        self.prefixes: dict[str, object] = {}
        self.hits: dict[str, int] = {}
        self.request_headers: dict[str, dict[str, str]] = {}
        archive = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                from urllib.parse import urlsplit

                parts = urlsplit(self.path)
                self._answer(parts.path, QueryParameters.parse(parts.query))

            def do_POST(self) -> None:
                from urllib.parse import urlsplit

                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                self._answer(parts.path, QueryParameters.parse(parts.query, form))

            def _answer(self, path: str, parameters: QueryParameters) -> None:
                archive.hits[path] = archive.hits.get(path, 0) + 1
                archive.request_headers[path] = dict(self.headers)
                answers = archive.routes.get(path)
                prefix = next((p for p in archive.prefixes if path.startswith(p)), None)
                if answers:
                    answer = answers[min(archive.hits[path], len(answers)) - 1]
                    answer = answer(parameters) if callable(answer) else answer
                elif prefix is not None:
                    answer = archive.prefixes[prefix](path, parameters)
                else:
                    answer = None
                if answer is None:
                    self.send_error(404)
                    return
                import time

                time.sleep(answer.get("delay", 0))
                body = answer.get("body", b"")
                self.send_response(answer.get("status", 200))
                for key, value in answer.get("headers", {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body[: answer.get("truncate", len(body))])
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_archive():
    """A running :class:`FakeArchive`, shut down after the test."""
    archive = FakeArchive()
    yield archive
    archive.close()


@pytest.fixture(scope="module")
def fake_archive_module():
    """A running :class:`FakeArchive` shared by the tests of a module."""
    archive = FakeArchive()
    yield archive
    archive.close()


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """Torch on one CPU thread during the test (see ``torch_threads.torch_on_one_thread``)."""
    from torch_threads import torch_on_one_thread

    with torch_on_one_thread():
        yield


@pytest.fixture(scope="session")
def trained_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic workspace with tiny finished runs ``runs/ours`` and ``runs/cyclegan`` (read-only use).

    A preprocessed synthetic workspace (100 objects), then one iteration per step of each method at
    width 1/16, one image per set and batch, on the CPU.
    """
    from sim_workspaces import preprocessed_sim_workspace
    from torch_threads import torch_on_one_thread

    from galtk.models.training.launch import prepare_workspace
    from galtk.pipeline.workspace import load_workspace

    root = preprocessed_sim_workspace(tmp_path_factory.mktemp("trained") / "ws", n_objects=100, seed=5)
    workspace = load_workspace(root)
    tiny = {"iterations": 1, "width": 0.0625, "batch_size": 1, "batch_pairs": 1, "sample_every": 0}
    with torch_on_one_thread():
        for method in ("ours", "cyclegan"):
            overrides = {"method": method, **tiny, "device": "cpu"}
            prepare_workspace(workspace, overrides=overrides, name=method).train()
    return root
