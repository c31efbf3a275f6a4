"""``galtk preprocess`` after ``galtk crossmatch``: arrays written, refusals, schedulers, store selection."""

from pathlib import Path

import numpy as np
import xarray as xr
from cli_results import one_error_line
from typer.testing import CliRunner

from galtk.cli.app import app
from galtk.pipeline.preprocess.transforms import rescale
from galtk.pipeline.stores.cutout_store import CutoutStore
from galtk.pipeline.workspace import CONFIG_NAME

runner = CliRunner()


def _crossmatched(fetched_workspace) -> Path:
    root = fetched_workspace()
    result = runner.invoke(app, ["crossmatch", "-w", str(root)])
    assert result.exit_code == 0, result.output
    return root


def test_preprocess_defaults_to_the_crossmatch_outputs_and_refuses_a_second_run(fetched_workspace) -> None:
    root = _crossmatched(fetched_workspace)
    result = runner.invoke(app, ["preprocess", "-w", str(root)])
    assert result.exit_code == 0, result.output
    assert "galtk preprocess" in result.stdout and "regridded" in result.stdout
    cfht = xr.open_zarr(root / "data/paired.zarr", group="cfht")
    assert cfht.regridded.shape == (cfht.sizes["object"], 5, 64, 64)
    sdss = xr.open_zarr(root / "data/unpaired_sdss.zarr")
    assert "regridded" not in sdss.data_vars
    np.testing.assert_array_equal(sdss.rescaled.values, rescale(sdss.images.values, "sdss"))
    assert CutoutStore.open(root / "data/unpaired_cfht.zarr").derived_arrays() == ["regridded", "rescaled"]

    before = {p: p.read_bytes() for p in (root / "data").rglob("*") if p.is_file()}
    again = runner.invoke(app, ["preprocess", "-w", str(root)])
    assert again.exit_code == 1
    assert "already rescaled" in one_error_line(again) and "--overwrite" in one_error_line(again)
    assert {p: p.read_bytes() for p in (root / "data").rglob("*") if p.is_file()} == before

    redone = runner.invoke(
        app,
        [
            "preprocess",
            "-w",
            str(root),
            "data/unpaired_cfht.zarr",
            "--overwrite",
            "--scheduler",
            "synchronous",
        ],
    )
    assert redone.exit_code == 0, redone.output
    store = CutoutStore.open(root / "data/unpaired_cfht.zarr")
    assert store.transforms[0]["scheduler"] == "synchronous"
    np.testing.assert_array_equal(store.array("rescaled")[:], rescale(store.images[:], "cfht"))


def test_stores_from_galtk_toml_or_arguments(fetched_workspace) -> None:
    root = fetched_workspace()
    config = root / CONFIG_NAME
    config.write_text(config.read_text().replace("stores = []", 'stores = ["data/raw/sdss.zarr"]'))
    result = runner.invoke(app, ["preprocess", "-w", str(root), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert CutoutStore.open(root / "data/raw/sdss.zarr").derived_arrays() == ["rescaled"]
    assert not CutoutStore.open(root / "data/raw/cfht.zarr").derived_arrays()
    result = runner.invoke(app, ["preprocess", "-w", str(root), "data/raw/cfht.zarr"])
    assert result.exit_code == 0, result.output
    assert CutoutStore.open(root / "data/raw/cfht.zarr").derived_arrays() == ["regridded", "rescaled"]


def test_bad_input_gives_oneone_error_line(fetched_workspace) -> None:
    root = fetched_workspace()
    missing = runner.invoke(app, ["preprocess", "-w", str(root)])
    assert missing.exit_code == 1
    assert "does not exist; run `galtk crossmatch` first" in one_error_line(missing)
    unknown = runner.invoke(app, ["preprocess", "-w", str(root), "data/raw/sdss.zarr", "--scheduler", "gpu"])
    assert unknown.exit_code == 1
    assert "unknown scheduler 'gpu'" in one_error_line(unknown)
    not_a_store = runner.invoke(app, ["preprocess", "-w", str(root), "data"])
    assert not_a_store.exit_code == 1
    assert "is not a galtk cutout store or paired store" in one_error_line(not_a_store)
    assert not CutoutStore.open(root / "data/raw/sdss.zarr").derived_arrays()


def test_a_rerun_after_a_partial_run_completes_the_stores_not_done(fetched_workspace) -> None:
    """A preprocess killed part-way through: a plain rerun was refused, and --overwrite redid it all."""
    root = _crossmatched(fetched_workspace)
    # The state a kill leaves: the paired store done, the unpaired CFHT store half-way (rescaled installed,
    # regridded not yet), the unpaired SDSS store untouched.
    assert runner.invoke(app, ["preprocess", "-w", str(root), "data/paired.zarr"]).exit_code == 0
    assert runner.invoke(app, ["preprocess", "-w", str(root), "data/unpaired_cfht.zarr"]).exit_code == 0
    CutoutStore.open(root / "data/unpaired_cfht.zarr", mode="r+").delete_array("regridded")
    done = {p: p.read_bytes() for p in (root / "data/paired.zarr").rglob("*") if p.is_file()}

    rerun = runner.invoke(app, ["preprocess", "-w", str(root)])
    assert rerun.exit_code == 0, rerun.output
    assert {p: p.read_bytes() for p in (root / "data/paired.zarr").rglob("*") if p.is_file()} == done
    for name in ("unpaired_sdss", "unpaired_cfht"):
        store = CutoutStore.open(root / f"data/{name}.zarr")
        survey = name.split("_")[1]
        np.testing.assert_array_equal(store.array("rescaled")[:], rescale(store.images[:], survey))
    assert CutoutStore.open(root / "data/unpaired_cfht.zarr").derived_arrays() == ["regridded", "rescaled"]
    again = runner.invoke(app, ["preprocess", "-w", str(root)])
    assert again.exit_code == 1 and "already rescaled" in one_error_line(again)
