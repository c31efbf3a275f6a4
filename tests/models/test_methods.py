"""The method table: names and aliases, networks and shapes, stages and translation of each method."""

import pytest
import torch

from galtk.errors import GaltkError
from galtk.models.methods import METHODS, build_networks, configure_method, resolve_method, same_networks
from galtk.models.network_kinds import KINDS, NetworkSpec, format_shape

TINY = 1 / 16
ALIASES = {
    "ours": (),
    "ours-step1": ("1",),
    "ours-step2": ("2",),
    "pix2pix": ("3", "a"),
    "cyclegan-adapted": ("4", "b"),
    "cyclegan-pid": ("5", "c"),
    "cyclegan-id": ("6", "d"),
    "cyclegan-id-ps": ("7", "e"),
    "ours-auto": ("8", "f"),
    "cyclegan": ("9", "g"),
    "augcgan": ("10", "h"),
    "galaxygan": (),
    "pix2pix-multi": (),
}


def _distinct_networks() -> list[NetworkSpec]:
    seen, specs = set(), []
    for method in METHODS.values():
        for net in method.networks:
            if (net.kind.name, net.inputs) not in seen:
                seen.add((net.kind.name, net.inputs))
                specs.append(net)
    return specs


NETWORKS = _distinct_networks()


def _ids(net: NetworkSpec) -> str:
    return f"{net.kind.name}-{'x'.join(str(d) for d in net.inputs[0][2:]) or 'code'}"


def _inputs(net: NetworkSpec, batch: int = 2, bands: int = 5) -> list[torch.Tensor]:
    values = {"B": batch, "C": bands, "C_in": bands}
    return [torch.randn(*(values.get(d, d) for d in shape)) for shape in net.inputs]  # type: ignore[misc]


def _output_shape(net: NetworkSpec, batch: int = 2, bands: int = 5) -> tuple[int, ...]:
    values = {"B": batch, "C": bands}
    return tuple(values.get(d, d) for d in net.output)  # type: ignore[misc]


def test_all_methods_and_aliases_resolve() -> None:
    assert list(METHODS) == list(ALIASES)
    for name, aliases in ALIASES.items():
        assert resolve_method(name).name == name
        assert resolve_method(name.upper()).name == name
        for alias in aliases:
            assert resolve_method(alias).name == name
    assert sorted(int(a) for m in METHODS.values() for a in m.aliases if a.isdigit()) == list(range(1, 11))


def test_unknown_method_lists_the_known_names() -> None:
    with pytest.raises(GaltkError) as error:
        resolve_method("cyclegan-xl")
    message = str(error.value)
    assert "cyclegan-xl" in message
    for name, aliases in ALIASES.items():
        assert (f"{name} ({', '.join(aliases)})" if aliases else name) in message


def _losses(method) -> list:
    return [update.loss for stage in method.stages for update in stage.updates]


def test_configuration_weighs_content_by_the_noise_for_ours_and_by_content_weight_for_the_gans() -> None:
    for name in ("pix2pix", "cyclegan-adapted", "cyclegan-id", "cyclegan", "augcgan"):
        paper = _losses(configure_method(METHODS[name], content_loss="noise-weighted"))
        assert [loss.content_weight for loss in paper if hasattr(loss, "content_weight")] == [1000.0], name
        heavier = _losses(configure_method(METHODS[name], content_loss="noise-weighted", content_weight=1e5))
        assert [loss.content_weight for loss in heavier if hasattr(loss, "content_weight")] == [1e5], name
        assert not any(getattr(loss, "noise_weighted", False) for loss in heavier), name
    for name in ("ours", "ours-auto"):
        losses = _losses(configure_method(METHODS[name], content_loss="noise-weighted", content_weight=1e5))
        assert all(loss.content_weight == 1.0 for loss in losses if hasattr(loss, "content_weight")), name
        assert any(getattr(loss, "noise_weighted", False) for loss in losses), name
    for name in ("galaxygan", "pix2pix-multi"):
        weights = [
            getattr(loss, "adversarial_weight", None) for loss in _losses(configure_method(METHODS[name]))
        ]
        assert weights == [None, 1.0], name
        alone = _losses(configure_method(METHODS[name], adversarial_weight=0.0, content_weight=1e5))
        assert [getattr(loss, "adversarial_weight", None) for loss in alone] == [None, 0.0], name
    with pytest.raises(GaltkError, match="unknown content_loss"):
        configure_method(METHODS["ours"], content_loss="l1")


def test_networks_of_each_method() -> None:
    roles = {name: [net.role for net in method.networks] for name, method in METHODS.items()}
    assert roles["ours"] == ["A_X", "A_Y", "NE_X", "NE_Y", "D_X", "D_Y", "G_XY", "G_YX"]
    assert roles["ours-auto"] == ["G_XY", "G_YX", "NE_X", "NE_Y", "D_X", "D_Y"]
    for name in ("pix2pix", "cyclegan-adapted", "cyclegan-pid", "cyclegan-id", "cyclegan-id-ps", "cyclegan"):
        assert roles[name] == ["G_XY", "G_YX", "D_X", "D_Y"]
    assert roles["augcgan"] == ["G_XY", "G_YX", "E_Y", "E_X", "D_X", "D_Y", "DZ_X", "DZ_Y"]
    kinds = {net.kind.name for net in METHODS["cyclegan-id-ps"].networks}
    assert kinds == {"generator-sdss-to-cfht-ps", "generator-cfht-to-sdss-ps", "discriminator"}


def test_regridded_methods_use_64_pixel_cfht() -> None:
    for name in ("cyclegan", "augcgan"):
        sizes = {dim for net in METHODS[name].networks for shape in net.inputs for dim in shape[2:]}
        assert sizes <= {64}
    ours_sizes = {net.inputs[0][-1] for net in METHODS["ours"].networks if net.role in ("A_Y", "D_Y", "G_YX")}
    assert ours_sizes == {136}


def test_build_networks_builds_every_role() -> None:
    nets = build_networks("10", device="meta")
    assert set(nets) == {net.role for net in METHODS["augcgan"].networks}
    assert all(p.is_meta for net in nets.values() for p in net.parameters())
    step2 = build_networks("2", roles=METHODS["ours-step2"].stages[0].roles, device="meta")
    assert list(step2) == ["G_XY", "G_YX", "NE_X", "NE_Y"]
    with pytest.raises(GaltkError, match="pix2pix has no network NE_X"):
        build_networks("pix2pix", roles=("NE_X",), device="meta")


def test_each_record_holds_its_stages_and_translation() -> None:
    for method in METHODS.values():
        roles = {net.role for net in method.networks}
        for stage in method.stages:
            assert set(stage.roles) <= roles, (method.name, stage.name)
            assert {role for update in stage.updates for role in update.owns} <= set(stage.roles)
    ours = METHODS["ours"]
    assert [stage.name for stage in ours.stages] == ["step1", "step2"]
    assert METHODS["ours-step1"].stages == ours.stages[:1]
    assert METHODS["ours-step2"].stages == ours.stages[1:]
    assert {name for name, method in METHODS.items() if method.cfht_array == "regridded"} == {
        "cyclegan",
        "augcgan",
    }
    assert [name for name, method in METHODS.items() if method.latent_codes] == ["augcgan"]
    assert [name for name, method in METHODS.items() if not method.listed] == ["ours-step1", "ours-step2"]
    assert same_networks("ours", "2") and not same_networks("ours", "ours-auto")


def test_every_kind_is_used_and_matches_spec_count() -> None:
    used = {net.kind.name for method in METHODS.values() for net in method.networks}
    assert used == set(KINDS)
    with torch.device("meta"):
        for kind in KINDS.values():
            assert sum(p.numel() for p in kind.build().parameters()) == kind.spec_parameters, kind.name


def test_format_shape_fills_in_the_band_count() -> None:
    assert format_shape(("B", "C", 64, 64), bands=3) == "(B, 3, 64, 64)"


@pytest.mark.parametrize("net", NETWORKS, ids=_ids)
def test_declared_shapes_channels_last_and_bf16_autocast(net: NetworkSpec) -> None:
    model = net.kind.build(width=TINY).eval()  # eval: the U-Net's dropout is training-time noise
    inputs = _inputs(net)
    with torch.no_grad():
        reference = model(*inputs)
        assert reference.shape == _output_shape(net)
        model = model.to(memory_format=torch.channels_last)
        channels_last = [x.to(memory_format=torch.channels_last) if x.dim() == 4 else x for x in inputs]
        assert torch.allclose(model(*channels_last), reference, rtol=1e-4, atol=1e-5)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            mixed = model(*inputs)
    assert mixed.shape == reference.shape
    assert torch.isfinite(mixed).all()
    assert (mixed.float() - reference).norm() <= 0.1 * reference.norm() + 1e-3


@pytest.mark.parametrize("kind", list(KINDS))
def test_traces_as_one_graph(kind: str) -> None:
    net = next(n for n in NETWORKS if n.kind.name == kind)
    model = net.kind.build(width=TINY).eval()
    inputs = _inputs(net, batch=1)
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True, backend="eager")
    with torch.no_grad():
        assert torch.allclose(compiled(*inputs), model(*inputs), rtol=1e-5, atol=1e-6)
