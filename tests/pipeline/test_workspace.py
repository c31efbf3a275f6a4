"""galtk.toml: defaults, round trip, validation."""

import tomllib
from pathlib import Path

import pytest

from galtk.errors import ConfigError
from galtk.pipeline.surveys import get_survey
from galtk.pipeline.workspace import (
    CONFIG_NAME,
    default_config,
    init_workspace,
    load_workspace,
    parse_config,
    render_config,
)


@pytest.mark.parametrize("sim", [True, False])
def test_rendered_config_parses_back_unchanged(sim: bool) -> None:
    config = default_config(sim=sim)
    assert parse_config(tomllib.loads(render_config(config))) == config


def test_sim_workspace_uses_the_synthetic_sky_for_both_surveys(tmp_path: Path) -> None:
    init_workspace(tmp_path, sim=True)
    workspace = load_workspace(tmp_path)
    assert {name: s.source for name, s in workspace.config.surveys.items()} == {"sdss": "sim", "cfht": "sim"}
    sdss, cfht = workspace.survey("sdss"), workspace.survey("cfht")
    assert (sdss.cutout_size, sdss.pixel_scale, sdss.unit) == (64, 0.396, "nanomaggy")
    assert (cfht.cutout_size, cfht.pixel_scale, cfht.unit) == (136, 0.186, "adu_zp30")
    assert workspace.store_path("cfht") == tmp_path.resolve() / "data/raw/cfht.zarr"


def test_archive_workspace_names_archive_sources(tmp_path: Path) -> None:
    init_workspace(tmp_path, sim=False)
    surveys = load_workspace(tmp_path).config.surveys
    assert (surveys["sdss"].source, surveys["cfht"].source) == ("sdss", "cfhtls")


def test_missing_keys_take_defaults_and_flags_of_a_survey_override(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_text('[surveys.sdss]\nbands = ["g", "r"]\ncutout_size = 48\n')
    workspace = load_workspace(tmp_path)
    assert workspace.survey("sdss").bands == ("g", "r")
    assert workspace.survey("sdss").cutout_size == 48
    assert workspace.config.fetch.workers == 2 and workspace.config.train == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sim]\nn_object = 3\n", "unknown key 'n_object' in \\[sim\\]"),
        ("[trian]\n", "unknown key 'trian' in the top level"),
        ("[surveys.hst]\n", "\\[surveys.hst\\] is not a built-in survey"),
        ('[fetch]\nworkers = "two"\n', "fetch.workers must be of type int"),
        ("[sim]\noverlap = 1.5\n", "overlap must be between 0 and 1"),
        ("[surveys.sdss]\npixel_scale = nan\n", "surveys.sdss.pixel_scale must be a finite number, got nan"),
        ("[sim]\nnoise_scale = nan\n", "sim.noise_scale must be a finite number, got nan"),
        ("[crossmatch]\nradius_arcsec = -inf\n", "crossmatch.radius_arcsec must be a finite number"),
        ('[surveys.sdss]\nbands = ["u", "q"]\n', "bands must be distinct names"),
        ("[sim\n", "is not valid TOML"),
    ],
)
def test_bad_configs_give_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / CONFIG_NAME).write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_workspace(tmp_path)


def test_missing_config_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="galtk init"):
        load_workspace(tmp_path)


def test_init_refuses_to_replace_an_existing_config(tmp_path: Path) -> None:
    init_workspace(tmp_path, sim=True)
    (tmp_path / CONFIG_NAME).write_text("# mine\n")
    with pytest.raises(ConfigError, match="already exists"):
        init_workspace(tmp_path, sim=True)
    assert (tmp_path / CONFIG_NAME).read_text() == "# mine\n"
    init_workspace(tmp_path, sim=True, force=True)
    assert "[surveys.sdss]" in (tmp_path / CONFIG_NAME).read_text()
    (tmp_path / "afile").write_text("x")
    for target in (tmp_path / "afile", tmp_path / "afile" / "ws"):  # once: "afile/galtk.toml: File exists"
        with pytest.raises(ConfigError, match="afile is a file, not a directory"):
            init_workspace(target, sim=True)


def test_outputs_that_lead_out_of_the_workspace_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / CONFIG_NAME).write_text('[surveys.sdss]\nstore = "../elsewhere/sdss.zarr"\n')
    workspace = load_workspace(root)
    with pytest.raises(ConfigError, match=r"store = '\.\./elsewhere/sdss\.zarr' leads out of the workspace"):
        workspace.store_path("sdss")
    assert workspace.output(tmp_path / "explicit.zarr", "store") == tmp_path / "explicit.zarr"
    assert workspace.output("data/../data/x.zarr", "store") == root / "data/../data/x.zarr"
    (root / "big-disk").symlink_to(tmp_path)  # a data folder linked from elsewhere is the user's choice
    assert workspace.output("big-disk/x.zarr", "store") == root / "big-disk/x.zarr"


def test_a_table_names_a_preset_and_overrides_it(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_text(
        '[surveys.nir]\npreset = "2mass"\nbands = ["K", "J"]\npixel_scale = 0.5\ncutout_size = 40\n'
        "seeing_fwhm = [2.5, 2.6]\n"
    )
    spec = load_workspace(tmp_path).survey("nir")
    assert spec.name == "nir" and spec.bands == ("K", "J")
    assert spec.hips.ids == ("CDS/P/2MASS/K", "CDS/P/2MASS/J")
    assert spec.seeing_fwhm == {"K": 2.5, "J": 2.6}
    assert spec.noise_sigma_nmgy == {"K": 13.0, "J": 8.2}  # the preset's
    assert spec.hips_factors() == pytest.approx((0.25, 0.25))


def test_a_survey_described_from_scratch(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_text(
        '[surveys.hsc]\nbands = ["g", "i"]\npixel_scale = 0.168\ncutout_size = 128\nunit = "count"\n'
        "unit_zeropoint = 27.0\n"
    )
    spec = load_workspace(tmp_path).survey("hsc")
    assert spec.calibrated and spec.zeropoint == pytest.approx(27.0)
    assert spec.nanomaggies_per_unit == pytest.approx(10 ** (-0.4 * 4.5))
    (tmp_path / CONFIG_NAME).write_text(
        '[surveys.hsc]\nbands = ["g", "i"]\npixel_scale = 0.168\ncutout_size = 128\nunit = "count"\n'
        "seeing_fwhm = [0.6]\n"
    )
    with pytest.raises(ConfigError, match="seeing_fwhm needs one value per band"):
        load_workspace(tmp_path)


def test_init_describes_any_built_in_surveys(tmp_path: Path) -> None:
    init_workspace(tmp_path, sim=False, surveys=["dss2", "2mass", "galex", "sdss9"])
    workspace = load_workspace(tmp_path)
    assert list(workspace.config.surveys) == ["dss2", "2mass", "galex", "sdss9"]
    for name, section in workspace.config.surveys.items():
        assert section.source == "hips" and section.catalog == "catalogs/objects.csv"
        assert workspace.survey(name).hips is not None
    with pytest.raises(ConfigError, match="unknown survey 'hst'"):
        init_workspace(tmp_path / "other", sim=False, surveys=["hst"])


def test_init_can_read_the_synthetic_sky_through_the_hips_stand_in(tmp_path: Path) -> None:
    init_workspace(tmp_path, sim=True, surveys=["dss2", "sdss9"], hips_standin=True)
    workspace = load_workspace(tmp_path)
    for name, section in workspace.config.surveys.items():
        assert (section.source, section.hips_server, section.catalog) == ("hips", "sim", "")
        assert workspace.survey(name).unit == get_survey(name).unit  # served in the HiPS unit
    assert not workspace.survey("dss2").calibrated
    with pytest.raises(ConfigError, match="give --sim as well"):
        init_workspace(tmp_path / "a", sim=False, surveys=["sdss9"], hips_standin=True)
    with pytest.raises(ConfigError, match="sdss has no HiPS"):
        init_workspace(tmp_path / "b", sim=True, surveys=["sdss", "cfht"], hips_standin=True)
