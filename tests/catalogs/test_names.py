"""Catalogs of object names resolved by Sesame: astropy's client against a stand-in on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.coordinates import name_resolve

from galtk.catalogs.files import read_object_catalog
from galtk.catalogs.names import UNRESOLVED, resolved_cache
from galtk.errors import CatalogError

#: What SIMBAD answers through Sesame for these names (ICRS, degrees).
KNOWN = {
    "NGC 4565": (189.0865833, 25.9875556),
    "M 101": (210.802429, 54.348750),
    "NGC 891": (35.639224, 42.349146),
}


ASKED: list[str] = []


def _sesame_answer(parameters: dict) -> dict:
    name = next(iter(parameters), "")
    ASKED.append(name)
    if name in KNOWN:
        ra, dec = KNOWN[name]
        text = (
            f"# {name}\t#Q1\n#=S=Simbad (via url):    1\n%I.0 {name}\n%J {ra} {dec:+f} = 00:00:00 +00:00:00\n"
        )
    else:
        text = f"# {name}\t#Q1\n#! *** Nothing found *** \n"
    return {"body": text.encode(), "headers": {"Content-Type": "text/plain"}}


@pytest.fixture
def sesame(fake_archive):
    fake_archive.routes["/sesame/SNV"] = [_sesame_answer]
    ASKED.clear()
    with name_resolve.sesame_url.set([fake_archive.url + "/sesame"]):
        yield fake_archive


def test_a_list_of_names_is_resolved_and_cached(tmp_path: Path, sesame) -> None:
    path = tmp_path / "ngc.csv"
    path.write_text("name\nNGC 4565\nM 101\nNGC 99999\nNGC 891\nM 101\n")
    catalog = read_object_catalog(path)
    assert list(catalog.ids) == ["NGC 4565", "M 101", "NGC 891"]
    np.testing.assert_allclose(catalog.ra, [KNOWN[n][0] for n in catalog.ids])
    np.testing.assert_allclose(catalog.dec, [KNOWN[n][1] for n in catalog.ids])
    assert catalog.dropped == {UNRESOLVED: 1}
    assert resolved_cache(path).is_file()
    assert sorted(ASKED) == sorted(["NGC 4565", "M 101", "NGC 99999", "NGC 891"])  # each name once
    # A second read asks Sesame only for the name it could not resolve.
    again = read_object_catalog(path)
    assert list(again.ids) == list(catalog.ids) and ASKED[4:] == ["NGC 99999"]
    # Without Sesame, the cache serves a list it resolved.
    path.write_text("name\nNGC 891\nM 101\n")
    with name_resolve.sesame_url.set(["http://127.0.0.1:9/unreachable"]):
        offline = read_object_catalog(path)
    assert list(offline.ids) == ["NGC 891", "M 101"]


def test_an_unreachable_sesame_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("name\nNGC 4565\n")
    unreachable = name_resolve.sesame_url.set(["http://127.0.0.1:9/unreachable"])
    with unreachable, pytest.raises(CatalogError, match="Sesame is unreachable"):
        read_object_catalog(path)
