"""The method table: names, stages and update order, ownership, and loss values checked by hand.

Images are smaller than the surveys' so the tests run fast on a CPU: SDSS 16 x 16 px with CFHT 40 x 40 px for
our networks (the generators map s -> 2 (s + 4), so 64 -> 136 at full size) and 32 x 32 px on both sides for
the CycleGAN-based methods (their latent encoder needs 32 px). Batches hold 2 unpaired SDSS, 3 unpaired CFHT
and 4 pairs, so a loss that mixes up the batch parts fails on shapes.
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from galtk.models.methods import METHODS, Method, build_networks, configure_method
from galtk.models.training.batches.loader import TrainingBatch
from galtk.models.training.updates import Stage, Update
from galtk.pipeline.preprocess.stage import REGRIDDED, RESCALED

TINY = 1 / 16
BANDS = 5
LATENT = 32
SEED = 1234
RATIO = 0.396 / 0.187


def _distinct_updates() -> list[tuple[Method, Stage, Update]]:
    """Every update of every stage once ("ours-step1" and "ours-step2" share the stages of "ours")."""
    seen: set[int] = set()
    cases = []
    for method in METHODS.values():
        for stage in method.stages:
            if id(stage) not in seen:
                seen.add(id(stage))
                cases += [(method, stage, update) for update in stage.updates]
    return cases


CASES = _distinct_updates()


def _case_id(case: tuple[Method, Stage, Update]) -> str:
    method, stage, update = case
    return f"{method.name}-{stage.name}-{update.name}"


def _batch(stage: Stage) -> TrainingBatch:
    same_grid = stage.cfht_array == REGRIDDED or {"G_REC", "G_MULTI"} & set(stage.roles)  # one grid
    sdss, cfht = (32, 32) if same_grid else (16, 40)
    return TrainingBatch(
        sdss=torch.randn(2, BANDS, sdss, sdss),
        cfht=torch.randn(3, BANDS, cfht, cfht),
        pair_sdss=torch.randn(4, BANDS, sdss, sdss),
        pair_cfht=torch.randn(4, BANDS, cfht, cfht),
    )


def _networks(method: Method, stage: Stage) -> dict[str, nn.Module]:
    networks = build_networks(method, roles=stage.roles, bands=BANDS, width=TINY)
    for role in stage.frozen:
        networks[role].requires_grad_(False)
    return networks


def _parameters(networks: dict[str, nn.Module], roles: tuple[str, ...]) -> list[torch.Tensor]:
    return [p for role in roles for p in networks[role].parameters()]


def _snapshot(networks: dict[str, nn.Module]) -> dict[str, list[torch.Tensor]]:
    return {role: [p.detach().clone() for p in net.parameters()] for role, net in networks.items()}


def _changed(before: list[torch.Tensor], network: nn.Module) -> bool:
    return any(not torch.equal(old, new) for old, new in zip(before, network.parameters(), strict=True))


def _mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a - b) ** 2).mean()


def _ce_real(logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-logits).mean()


def _ce_generated(logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(logits).mean()


def _noise(noise_emulator: nn.Module, batch: int, size: int) -> torch.Tensor:
    z1 = torch.randn(batch, BANDS)
    z2 = torch.randn(batch, BANDS, size + 6, size + 6)
    return noise_emulator(z1, z2)


def _seeded_loss(update: Update, networks: dict[str, nn.Module], batch: TrainingBatch) -> dict:
    torch.manual_seed(SEED)
    return update.loss(networks, batch)


def _update(method: str, stage: str, name: str) -> tuple[Method, Stage, Update]:
    found = METHODS[method]
    found_stage = next(s for s in found.stages if s.name == stage)
    return found, found_stage, next(u for u in found_stage.updates if u.name == name)


# --- structure --------------------------------------------------------------------------------------------

UPDATE_ORDER = {
    "ours": [["A", "D", "NE"], ["G"]],
    "ours-step1": [["A", "D", "NE"]],
    "ours-step2": [["G"]],
    "ours-auto": [["G", "D", "NE"]],
}


@pytest.mark.parametrize("method", METHODS.values(), ids=lambda m: m.name)
def test_stages_follow_spec_section_5(method: Method) -> None:
    expected = UPDATE_ORDER.get(method.name, [["D", "G"]])
    assert [[update.name for update in stage.updates] for stage in method.stages] == expected
    registry_roles = {net.role for net in method.networks}
    for stage in method.stages:
        regridded = method.name in ("cyclegan", "augcgan")
        assert stage.cfht_array == (REGRIDDED if regridded else RESCALED)
        assert set(stage.roles) <= registry_roles
        assert set(stage.frozen) <= set(stage.roles)
        owners = [role for update in stage.updates for role in update.owns]
        assert len(owners) == len(set(owners)), "a network is trained by one update"
        assert set(owners) == set(stage.roles) - set(stage.frozen), "every unfrozen network is trained"
    if not method.name.startswith("ours"):
        assert set(method.stages[0].roles) == registry_roles


def test_ours_step2_loads_and_freezes_the_noise_emulators_of_step1() -> None:
    step1, step2 = METHODS["ours"].stages
    assert step1.roles == ("A_X", "A_Y", "NE_X", "NE_Y", "D_X", "D_Y") and step1.frozen == ()
    assert step2.roles == ("G_XY", "G_YX", "NE_X", "NE_Y") and step2.frozen == ("NE_X", "NE_Y")
    assert [u.owns for u in step1.updates] == [("A_X", "A_Y"), ("D_X", "D_Y"), ("NE_X", "NE_Y")]
    assert [u.owns for u in step2.updates] == [("G_XY", "G_YX")]


# --- every update: finite, differentiable, changes only what it owns -------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_update_changes_only_the_networks_it_owns(case: tuple[Method, Stage, Update]) -> None:
    """Finite, differentiable into every owned network; Adam on the owned parameters changes them only.

    A D update builds no graph through the networks that make the generated images (A, G, E, NE), an NE
    update none through A or G, so the trainer's backward pass does no wasted work.
    """
    method, stage, update = case
    networks = _networks(method, stage)
    before = _snapshot(networks)
    terms = update.loss(networks, _batch(stage))
    assert "loss" in terms and all(value.dim() == 0 for value in terms.values())
    assert all(torch.isfinite(value) for value in terms.values())
    assert all(not value.requires_grad for name, value in terms.items() if name != "loss")
    if update.name in ("D", "NE"):
        makers = [r for r in stage.roles if r[0] in "AGE" or (update.name == "D" and r.startswith("NE"))]
        makers = [r for r in makers if r not in stage.frozen]
        grads = torch.autograd.grad(
            terms["loss"], _parameters(networks, tuple(makers)), allow_unused=True, retain_graph=True
        )
        assert makers and all(grad is None for grad in grads)
    owned = _parameters(networks, update.owns)
    torch.autograd.backward(terms["loss"], inputs=owned)
    for role in update.owns:
        grads = [p.grad for p in networks[role].parameters() if p.grad is not None]
        assert any(g.abs().sum() > 0 for g in grads), f"{role} gets no gradient from {update.name}"
    torch.optim.Adam(owned, lr=1e-3).step()
    for role, network in networks.items():
        assert _changed(before[role], network) == (role in update.owns), role


def test_named_ownership_rules() -> None:
    def owners(method: str, stage: str, name: str) -> tuple[str, ...]:
        return _update(method, stage, name)[2].owns

    assert not {"NE_X", "NE_Y"} & set(owners("ours", "step2", "G"))
    assert not {"D_X", "D_Y"} & set(owners("ours", "step1", "NE"))
    for method, _, update in CASES:
        if update.name == "D":
            assert all(role.startswith("D") for role in update.owns), method.name


def test_losses_do_not_depend_on_autocast() -> None:
    for method, stage, update in (_update("ours", "step1", "NE"), _update("augcgan", "train", "G")):
        networks = _networks(method, stage)
        batch = _batch(stage)
        plain = _seeded_loss(update, networks, batch)
        state = torch.get_rng_state()
        torch.manual_seed(SEED)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            mixed = update.loss(networks, batch)
        assert torch.equal(torch.get_rng_state(), state), "same random draws with and without autocast"
        assert all(value.dtype == torch.float32 for value in mixed.values())
        torch.testing.assert_close(mixed["loss"], plain["loss"], rtol=0.1, atol=0.0)


# --- hand-computed values ---------------------------------------------------------------------------------


def test_ours_step1_losses_by_hand() -> None:
    method, stage, _ = _update("ours", "step1", "A")
    networks, batch = _networks(method, stage), _batch(stage)
    a_x, a_y, ne_x, ne_y, d_x, d_y = (networks[r] for r in stage.roles)
    x = torch.cat([batch.sdss, batch.pair_sdss])
    y = torch.cat([batch.cfht, batch.pair_cfht])

    terms = _seeded_loss(stage.updates[0], networks, batch)
    torch.testing.assert_close(terms["loss"], _mse(a_x(x), x) + _mse(a_y(y), y))

    with torch.no_grad():
        torch.manual_seed(SEED)
        fake_x = a_x(x) + _noise(ne_x, 6, 16)
        fake_y = a_y(y) + _noise(ne_y, 7, 40)
        expected_d = (
            _ce_real(d_x(x)) + _ce_generated(d_x(fake_x)) + _ce_real(d_y(y)) + _ce_generated(d_y(fake_y))
        )
        expected_ne = _ce_real(d_x(fake_x)) + _ce_real(d_y(fake_y))
    terms = _seeded_loss(stage.updates[1], networks, batch)
    torch.testing.assert_close(terms["loss"], expected_d)
    torch.testing.assert_close(terms["adv_x"], _ce_real(d_x(x)) + _ce_generated(d_x(fake_x)))
    torch.testing.assert_close(_seeded_loss(stage.updates[2], networks, batch)["loss"], expected_ne)


def test_ours_step2_loss_by_hand() -> None:
    method, stage, update = _update("ours", "step2", "G")
    networks, batch = _networks(method, stage), _batch(stage)
    g_xy, g_yx, ne_x, ne_y = (networks[r] for r in stage.roles)
    x, y = batch.sdss, batch.cfht
    with torch.no_grad():
        torch.manual_seed(SEED)
        noisy_x = g_yx(y) + _noise(ne_x, 3, 16)
        noisy_y = g_xy(x) + _noise(ne_y, 2, 40)
        cycle = _mse(g_yx(noisy_y), x) + _mse(g_xy(noisy_x), y)
        identity = _mse(g_xy(batch.pair_sdss), batch.pair_cfht) + _mse(g_yx(batch.pair_cfht), batch.pair_sdss)
    terms = _seeded_loss(update, networks, batch)
    torch.testing.assert_close(terms["cyc"], cycle)
    torch.testing.assert_close(terms["id"], identity)
    torch.testing.assert_close(terms["loss"], cycle + identity)


def test_pix2pix_generator_loss_by_hand_with_and_without_its_adversarial_term() -> None:
    method, stage, update = _update("galaxygan", "train", "G")
    networks, batch = _networks(method, stage), _batch(stage)
    generator, judge = networks["G_REC"], networks["D_REC"]
    x, y = batch.pair_sdss, batch.pair_cfht
    generator.eval()  # no dropout: the same G(x) in the loss and here
    with torch.no_grad():
        made = generator(x)
        adversarial, l1 = _ce_real(judge(x, made)), (made - y).abs().mean()
    terms = update.loss(networks, batch)
    torch.testing.assert_close(terms["loss"], adversarial + 100 * l1)
    alone = configure_method(method, adversarial_weight=0.0).stages[0].updates[1].loss
    terms = alone(networks, batch)
    torch.testing.assert_close(terms["adv"], adversarial)  # still logged
    torch.testing.assert_close(terms["loss"], 100 * l1)


def test_cyclegan_pid_losses_by_hand() -> None:
    method, stage, update_d = _update("cyclegan-pid", "train", "D")
    update_g = stage.updates[1]
    networks, batch = _networks(method, stage), _batch(stage)
    g_xy, g_yx, d_x, d_y = (networks[r] for r in ("G_XY", "G_YX", "D_X", "D_Y"))
    x, y = batch.sdss, batch.cfht
    with torch.no_grad():
        fake_y, fake_x = g_xy(x), g_yx(y)
        expected_d = (
            _ce_real(d_x(x)) + _ce_generated(d_x(fake_x)) + _ce_real(d_y(y)) + _ce_generated(d_y(fake_y))
        )
        cycle = _mse(g_yx(fake_y), x) + _mse(g_xy(fake_x), y)
        to_sdss = RATIO * F.interpolate(fake_y, size=(16, 16), mode="bilinear", align_corners=False)
        y_on_sdss = RATIO * F.interpolate(y, size=(16, 16), mode="bilinear", align_corners=False)
        pseudo_identity = _mse(to_sdss, x) + _mse(fake_x, y_on_sdss)
        adversarial = _ce_real(d_y(fake_y)) + _ce_real(d_x(fake_x))
    torch.testing.assert_close(_seeded_loss(update_d, networks, batch)["loss"], expected_d)
    terms = _seeded_loss(update_g, networks, batch)
    torch.testing.assert_close(terms["pid"], pseudo_identity)
    torch.testing.assert_close(terms["loss"], 1000 * (cycle + pseudo_identity) + adversarial)


def test_augcgan_losses_by_hand() -> None:
    method, stage, update_d = _update("augcgan", "train", "D")
    update_g = stage.updates[1]
    networks, batch = _networks(method, stage), _batch(stage)
    g_xy, g_yx, e_x, e_y, d_x, d_y, dz_x, dz_y = (
        networks[r] for r in ("G_XY", "G_YX", "E_X", "E_Y", "D_X", "D_Y", "DZ_X", "DZ_Y")
    )
    x, y, xp, yp = batch.sdss, batch.cfht, batch.pair_sdss, batch.pair_cfht
    with torch.no_grad():
        torch.manual_seed(SEED)
        z_x, z_y, zp_x, zp_y = (torch.randn(n, LATENT) for n in (len(y), len(x), len(yp), len(xp)))
        fake_y, fake_x = g_xy(x, z_y), g_yx(y, z_x)
        code_x, code_y = e_x(x, fake_y), e_y(y, fake_x)
        pair_code_x, pair_code_y = e_x(xp, yp), e_y(yp, xp)
        expected_d = (
            _ce_real(d_x(x))
            + _ce_generated(d_x(fake_x))
            + _ce_real(d_y(y))
            + _ce_generated(d_y(fake_y))
            + _ce_real(dz_x(z_x))
            + _ce_generated(dz_x(code_x))
            + _ce_real(dz_y(z_y))
            + _ce_generated(dz_y(code_y))
            + _ce_real(dz_x(zp_x))
            + _ce_generated(dz_x(pair_code_x))
            + _ce_real(dz_y(zp_y))
            + _ce_generated(dz_y(pair_code_y))
        )
        cycle = _mse(g_yx(fake_y, code_x), x) + _mse(g_xy(fake_x, code_y), y)
        identity = _mse(g_xy(xp, zp_y), yp) + _mse(g_yx(yp, zp_x), xp)
        latent_cycle = _mse(e_y(fake_y, x), z_y) + _mse(e_x(fake_x, y), z_x)
        adversarial = _ce_real(d_y(fake_y)) + _ce_real(d_x(fake_x))
        latent_adversarial = (
            _ce_real(dz_x(code_x))
            + _ce_real(dz_y(code_y))
            + _ce_real(dz_x(pair_code_x))
            + _ce_real(dz_y(pair_code_y))
        )
    torch.testing.assert_close(_seeded_loss(update_d, networks, batch)["loss"], expected_d)
    terms = _seeded_loss(update_g, networks, batch)
    torch.testing.assert_close(terms["cyc_latent"], latent_cycle)
    torch.testing.assert_close(terms["adv_latent"], latent_adversarial)
    torch.testing.assert_close(
        terms["loss"], 1000 * (cycle + identity) + latent_cycle + adversarial + latent_adversarial
    )
