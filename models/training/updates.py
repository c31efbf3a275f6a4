"""Training stages as data: the updates of an iteration, what each update owns and minimises.

A method of :mod:`galtk.models.methods` has one or two :class:`Stage` s; a stage lists its networks (roles
``A_X``, ``NE_Y``, ``G_XY``, ``D_X``, ``E_Y``, ``DZ_X`` ...; X = SDSS, Y = CFHT), the roles it loads frozen
from the previous stage, the CFHT array it reads and its :class:`Update` s, run in order every iteration. An
update names the roles its Adam optimizer owns and a loss function ``loss(networks, batch) -> {"loss": scalar,
component: scalar, ...}``; the trainer back-propagates ``"loss"`` into the owned parameters only and logs the
other (detached) components.

The loss functions are a few configurable objects (:class:`AutoencoderLoss`, :class:`DiscriminatorLoss`,
:class:`NoiseEmulatorLoss`, :class:`TranslationLoss`, :class:`AugCGanDiscriminatorLoss`,
:class:`AugCGanGeneratorLoss`); the method table :data:`galtk.models.methods.METHODS` combines them. The
choices that neither SPEC nor the paper fixes follow the reference code (``QiufanLin/ImageTranslation``,
``model.py``) and are listed in ``docs/training.md`` ("Methods and losses") and ``docs/methods.md``.

Randomness (Noise Emulator seeds, AugCGAN latent codes) comes from the global torch RNG, in an order each
loss documents, so that a run restored with its RNG state continues exactly. Loss functions never call
``backward``, ``step`` or ``zero_grad``; they work the same with or without ``torch.autocast`` (losses are
computed in float32, seeds are drawn in float32). Parts of a loss that cannot reach the update's owned
parameters run under ``torch.no_grad``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
from torch import nn

from galtk.models.networks.augcgan import LATENT_DIM
from galtk.models.training.batches.loader import TrainingBatch
from galtk.models.training.losses import adversarial_loss, content_loss, resize_to_sdss_grid

Networks = Mapping[str, nn.Module]
"""Networks of a stage keyed by role (``"A_X"``, ``"G_XY"``, ``"NE_Y"``, ...)."""

LossTerms = dict[str, torch.Tensor]
"""Scalar tensors: ``"loss"`` is minimised, the other keys are detached components for the logs."""

LossFunction = Callable[[Networks, TrainingBatch], LossTerms]

CfhtArray = Literal["rescaled", "regridded"]
"""Which preprocessed CFHT array a stage reads (array names of :mod:`galtk.pipeline.preprocess.stage`)."""


@dataclass(frozen=True)
class Update:
    """One optimizer step of an iteration.

    Attributes
    ----------
    name : str
        ``"A"``, ``"D"``, ``"NE"`` or ``"G"`` (unique within a stage).
    owns : tuple of str
        Roles whose parameters this update's Adam optimizer changes.
    loss : callable
        ``loss(networks, batch)`` returns :data:`LossTerms`.
    """

    name: str
    owns: tuple[str, ...]
    loss: LossFunction


@dataclass(frozen=True)
class Stage:
    """A training stage: its networks and the updates of each iteration.

    Attributes
    ----------
    name : str
        ``"step1"`` / ``"step2"`` for ours, ``"train"`` for the one-step methods.
    roles : tuple of str
        Networks present in the stage.
    frozen : tuple of str
        Roles loaded from the previous stage's final weights and kept fixed.
    cfht_array : {"rescaled", "regridded"}
        CFHT images used: 136 x 136 px ``rescaled`` or 64 x 64 px ``regridded`` (methods g and h).
    updates : tuple of Update
        Run in this order every iteration.
    """

    name: str
    roles: tuple[str, ...]
    frozen: tuple[str, ...]
    cfht_array: CfhtArray
    updates: tuple[Update, ...]


class SurveyImages(NamedTuple):
    """One set of images per survey: ``x`` on the SDSS side, ``y`` on the CFHT side."""

    x: torch.Tensor
    y: torch.Tensor


ImageSource = Callable[..., tuple[SurveyImages, SurveyImages]]
"""``source(networks, batch, *, train_noise)`` returns (real, generated) images for the discriminators."""


def _detached(terms: Mapping[str, torch.Tensor]) -> LossTerms:
    return {name: value.detach() for name, value in terms.items()}


def _noise_like(noise_emulator: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Noise for ``images``' shape from the global RNG, seeds in float32 (z1, then z2)."""
    batch, _, height, width = images.shape
    return noise_emulator.sample(batch, (height, width), device=images.device, dtype=torch.float32)


def _add_noise(networks: Networks, clean: SurveyImages, *, track: bool) -> SurveyImages:
    """``clean`` plus NE_X noise (drawn first) and NE_Y noise (drawn second)."""
    with torch.set_grad_enabled(track and torch.is_grad_enabled()):
        noise_x = _noise_like(networks["NE_X"], clean.x)
        noise_y = _noise_like(networks["NE_Y"], clean.y)
    return SurveyImages(clean.x + noise_x, clean.y + noise_y)


def _discriminate(
    discriminator: nn.Module, real: torch.Tensor, generated: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits of real and generated images from one forward pass (no network here mixes batch rows)."""
    logits = discriminator(torch.cat([real, generated.to(real.dtype)]))
    return logits[: len(real)], logits[len(real) :]


def _discriminator_terms(
    discriminator: nn.Module, real: torch.Tensor, generated: torch.Tensor
) -> torch.Tensor:
    real_logits, generated_logits = _discriminate(discriminator, real, generated)
    return adversarial_loss(real_logits, real=True) + adversarial_loss(generated_logits, real=False)


@dataclass(frozen=True)
class AutoencodedImages:
    """Step 1 of ours: every image of each survey in the batch, and A(image) + NE noise.

    The real images are the unpaired images followed by the pair images of the same survey (step 1 learns
    each survey's images, Eq. 1-3 of the paper take x ~ X, not x ~ X_unpair). The autoencoders run without
    gradients; the noise is differentiable when ``train_noise``. Draws NE_X seeds, then NE_Y seeds.
    """

    def __call__(
        self, networks: Networks, batch: TrainingBatch, *, train_noise: bool
    ) -> tuple[SurveyImages, SurveyImages]:
        real = survey_images(batch)
        with torch.no_grad():
            clean = SurveyImages(networks["A_X"](real.x), networks["A_Y"](real.y))
        return real, _add_noise(networks, clean, track=train_noise)


@dataclass(frozen=True)
class TranslatedImages:
    """Unpaired images and their translations: G_YX(y) (+ NE_X noise) on the SDSS side, G_XY(x) (+ NE_Y).

    Attributes
    ----------
    noise : bool
        Add Noise Emulator noise (ours-auto) or not (the other one-step methods). Draws NE_X seeds, then
        NE_Y seeds.
    """

    noise: bool

    def __call__(
        self, networks: Networks, batch: TrainingBatch, *, train_noise: bool
    ) -> tuple[SurveyImages, SurveyImages]:
        real = SurveyImages(batch.sdss, batch.cfht)
        with torch.no_grad():
            clean = SurveyImages(networks["G_YX"](batch.cfht), networks["G_XY"](batch.sdss))
        generated = _add_noise(networks, clean, track=train_noise) if self.noise else clean
        return real, generated


def survey_images(batch: TrainingBatch) -> SurveyImages:
    """All images of each survey in a batch: unpaired then pair images, concatenated along the batch axis.

    Parameters
    ----------
    batch : TrainingBatch
        One iteration's images.

    Returns
    -------
    SurveyImages
        ``x`` (B_unpaired + B_pairs, C, 64, 64) and ``y`` (B_unpaired + B_pairs, C, S, S).
    """
    return SurveyImages(torch.cat([batch.sdss, batch.pair_sdss]), torch.cat([batch.cfht, batch.pair_cfht]))


def noise_levels(networks: Networks, weighted: bool) -> SurveyImages | tuple[None, None]:
    """Per-band noise sigma of each survey for the noise-weighted content losses; (None, None) if unweighted.

    The sigmas are the ``measured_sigma`` of the stage's Noise Emulators (NE_X for SDSS, NE_Y for CFHT),
    recorded from the training images when the stage that trains them started, whatever their
    parametrisation (:meth:`~galtk.models.networks.noise_emulator.NoiseEmulator.set_measured_sigma`).
    """
    if not weighted:
        return None, None
    return SurveyImages(networks["NE_X"].measured_sigma, networks["NE_Y"].measured_sigma)


@dataclass(frozen=True)
class AutoencoderLoss:
    """L_auto (Eq. 1): MSE(A_X(x), x) + MSE(A_Y(y), y) on every image of each survey in the batch.

    Components ``auto_x`` and ``auto_y``. Draws no random numbers.

    Attributes
    ----------
    noise_weighted : bool
        Divide each band's squared error by its noise variance (:func:`noise_levels`).
    """

    noise_weighted: bool = False

    def __call__(self, networks: Networks, batch: TrainingBatch) -> LossTerms:
        images = survey_images(batch)
        sigma_x, sigma_y = noise_levels(networks, self.noise_weighted)
        terms = {
            "auto_x": content_loss(networks["A_X"](images.x), images.x, sigma_x),
            "auto_y": content_loss(networks["A_Y"](images.y), images.y, sigma_y),
        }
        return {"loss": terms["auto_x"] + terms["auto_y"], **_detached(terms)}


@dataclass(frozen=True)
class DiscriminatorLoss:
    """L_adv(D_X, D_Y) (Eq. 2): real images labelled 1, generated images labelled 0, for both surveys.

    ``loss = CE(D_X(x), 1) + CE(D_X(x_gen), 0) + CE(D_Y(y), 1) + CE(D_Y(y_gen), 0)``, each term the mean
    sigmoid cross-entropy over batch and bands (or patches). The generated images are made without
    gradients. Components ``adv_x`` and ``adv_y``.

    Attributes
    ----------
    source : callable
        :class:`AutoencodedImages` (step 1) or :class:`TranslatedImages`.
    """

    source: ImageSource

    def __call__(self, networks: Networks, batch: TrainingBatch) -> LossTerms:
        with torch.no_grad():
            real, generated = self.source(networks, batch, train_noise=False)
        terms = {
            "adv_x": _discriminator_terms(networks["D_X"], real.x, generated.x),
            "adv_y": _discriminator_terms(networks["D_Y"], real.y, generated.y),
        }
        return {"loss": terms["adv_x"] + terms["adv_y"], **_detached(terms)}


@dataclass(frozen=True)
class NoiseEmulatorLoss:
    """L_adv(NE_X, NE_Y) (Eq. 3): generated images (content + NE noise) labelled 1 by the discriminators.

    ``loss = CE(D_X(x_gen), 1) + CE(D_Y(y_gen), 1)``; only the noise carries gradients (the content comes
    from the autoencoders or generators without gradients). Components ``adv_x`` and ``adv_y``.

    Attributes
    ----------
    source : callable
        :class:`AutoencodedImages` (step 1) or ``TranslatedImages(noise=True)`` (ours-auto).
    """

    source: ImageSource

    def __call__(self, networks: Networks, batch: TrainingBatch) -> LossTerms:
        _, generated = self.source(networks, batch, train_noise=True)
        terms = {
            "adv_x": adversarial_loss(networks["D_X"](generated.x), real=True),
            "adv_y": adversarial_loss(networks["D_Y"](generated.y), real=True),
        }
        return {"loss": terms["adv_x"] + terms["adv_y"], **_detached(terms)}


@dataclass(frozen=True)
class TranslationLoss:
    """Generator objective of ours (step 2), ours-auto and methods a-g.

    ``loss = content_weight * (L_cyc + L_id + L_pid, those enabled) + L_adv (if enabled)``, with x, y the
    unpaired images and (x_p, y_p) the pairs:

    - L_cyc (Eq. 5) = MSE(G_YX(F_XY(x)), x) + MSE(G_XY(F_YX(y)), y) with F_XY(x) = G_XY(x) (+ NE_Y noise)
      and F_YX(y) = G_YX(y) (+ NE_X noise): the second half of the cycle sees the noisy image.
    - L_id (Eq. 4) = MSE(G_XY(x_p), y_p) + MSE(G_YX(y_p), x_p).
    - L_pid (Eq. 6) = MSE(r(G_XY(x)), x) + MSE(G_YX(y), r(y)), r = bilinear resize of a CFHT-grid image to
      the SDSS grid times 0.396 / 0.187 (:func:`~galtk.models.training.losses.resize_to_sdss_grid`).
    - L_adv = CE(D_Y(F_XY(x)), 1) + CE(D_X(F_YX(y)), 1): the generators try to pass as real.

    Noise (when ``noise``) is drawn without gradients, NE_X seeds (for F_YX(y)) first, then NE_Y seeds.
    Components: ``cyc``, ``id``, ``pid``, ``adv`` (those enabled).

    Attributes
    ----------
    cycle, identity, pseudo_identity, adversarial : bool
        Which terms the objective has.
    content_weight : float
        Weight of the content terms (1 for ours and ours-auto, 1000 for the GAN baselines).
    noise : bool
        Add Noise Emulator noise to the half-cycle translations (ours and ours-auto).
    noise_weighted : bool
        Divide the squared errors of L_cyc and L_id, band by band, by the noise variance of the target's
        survey (:func:`noise_levels`; methods with Noise Emulators only).
    """

    cycle: bool = False
    identity: bool = False
    pseudo_identity: bool = False
    adversarial: bool = False
    content_weight: float = 1.0
    noise: bool = False
    noise_weighted: bool = False

    def __call__(self, networks: Networks, batch: TrainingBatch) -> LossTerms:
        g_xy, g_yx = networks["G_XY"], networks["G_YX"]
        x, y = batch.sdss, batch.cfht
        sigma_x, sigma_y = noise_levels(networks, self.noise_weighted)
        terms: dict[str, torch.Tensor] = {}
        if self.cycle or self.pseudo_identity or self.adversarial:
            clean = SurveyImages(g_yx(y), g_xy(x))
            translated = _add_noise(networks, clean, track=False) if self.noise else clean
        if self.cycle:
            terms["cyc"] = content_loss(g_yx(translated.y), x, sigma_x) + content_loss(
                g_xy(translated.x), y, sigma_y
            )
        if self.identity:
            terms["id"] = content_loss(g_xy(batch.pair_sdss), batch.pair_cfht, sigma_y) + content_loss(
                g_yx(batch.pair_cfht), batch.pair_sdss, sigma_x
            )
        if self.pseudo_identity:
            sdss_grid = (x.shape[-2], x.shape[-1])
            terms["pid"] = content_loss(resize_to_sdss_grid(clean.y, sdss_grid), x) + content_loss(
                clean.x, resize_to_sdss_grid(y, sdss_grid)
            )
        loss = self.content_weight * sum(terms.values(), torch.zeros((), device=x.device))
        if self.adversarial:
            terms["adv"] = adversarial_loss(networks["D_Y"](translated.y), real=True) + adversarial_loss(
                networks["D_X"](translated.x), real=True
            )
            loss = loss + terms["adv"]
        return {"loss": loss, **_detached(terms)}


class LatentCodes(NamedTuple):
    """AugCGAN latent codes drawn from N(0, 1): ``x`` conditions G_YX (SDSS side), ``y`` conditions G_XY."""

    x: torch.Tensor
    y: torch.Tensor
    pair_x: torch.Tensor
    pair_y: torch.Tensor


def draw_latent_codes(batch: TrainingBatch) -> LatentCodes:
    """Draw the four code batches of one AugCGAN loss from the global RNG, in float32.

    Order: ``x`` (one per unpaired CFHT image, for G_YX(y, z)), ``y`` (per unpaired SDSS image, for
    G_XY(x, z)), ``pair_x`` (per pair, for G_YX(y_p, z)), ``pair_y`` (per pair, for G_XY(x_p, z)).

    Parameters
    ----------
    batch : TrainingBatch
        The iteration's images (their sizes and device).

    Returns
    -------
    LatentCodes
    """
    device = batch.sdss.device
    sizes = (len(batch.cfht), len(batch.sdss), len(batch.pair_cfht), len(batch.pair_sdss))
    return LatentCodes(*(torch.randn(size, LATENT_DIM, device=device) for size in sizes))


class _AugCGanForward(NamedTuple):
    fake_x: torch.Tensor
    fake_y: torch.Tensor
    code_x: torch.Tensor
    code_y: torch.Tensor
    pair_code_x: torch.Tensor
    pair_code_y: torch.Tensor


def _augcgan_forward(networks: Networks, batch: TrainingBatch, codes: LatentCodes) -> _AugCGanForward:
    """Translations under prior codes and the codes the encoders infer (reference code, method 10)."""
    x, y = batch.sdss, batch.cfht
    fake_y = networks["G_XY"](x, codes.y)
    fake_x = networks["G_YX"](y, codes.x)
    return _AugCGanForward(
        fake_x=fake_x,
        fake_y=fake_y,
        code_x=networks["E_X"](x, fake_y),
        code_y=networks["E_Y"](y, fake_x),
        pair_code_x=networks["E_X"](batch.pair_sdss, batch.pair_cfht),
        pair_code_y=networks["E_Y"](batch.pair_cfht, batch.pair_sdss),
    )


@dataclass(frozen=True)
class AugCGanDiscriminatorLoss:
    """Discriminator objective of AugCGAN (method h): image and latent discriminators, real vs generated.

    With codes z drawn by :func:`draw_latent_codes`, x~ = G_YX(y, z_x), y~ = G_XY(x, z_y) and the encoded
    codes e_x = E_X(x, y~), e_y = E_Y(y, x~), e_xp = E_X(x_p, y_p), e_yp = E_Y(y_p, x_p):

    ``adv = CE(D_X(x), 1) + CE(D_X(x~), 0) + CE(D_Y(y), 1) + CE(D_Y(y~), 0)`` (PatchGAN logits) and
    ``adv_latent = CE(DZ_X(z_x), 1) + CE(DZ_X(e_x), 0) + CE(DZ_Y(z_y), 1) + CE(DZ_Y(e_y), 0)`` plus the same
    four terms for the pairs (z_pair_x against e_xp, z_pair_y against e_yp); ``loss = adv + adv_latent``.
    Everything but the discriminators runs without gradients. Components ``adv``, ``adv_latent``.
    """

    def __call__(self, networks: Networks, batch: TrainingBatch) -> LossTerms:
        codes = draw_latent_codes(batch)
        with torch.no_grad():
            forward = _augcgan_forward(networks, batch, codes)
        dz_x, dz_y = networks["DZ_X"], networks["DZ_Y"]
        terms = {
            "adv": _discriminator_terms(networks["D_X"], batch.sdss, forward.fake_x)
            + _discriminator_terms(networks["D_Y"], batch.cfht, forward.fake_y),
            "adv_latent": _discriminator_terms(dz_x, codes.x, forward.code_x)
            + _discriminator_terms(dz_y, codes.y, forward.code_y)
            + _discriminator_terms(dz_x, codes.pair_x, forward.pair_code_x)
            + _discriminator_terms(dz_y, codes.pair_y, forward.pair_code_y),
        }
        return {"loss": terms["adv"] + terms["adv_latent"], **_detached(terms)}


@dataclass(frozen=True)
class AugCGanGeneratorLoss:
    """Generator and encoder objective of AugCGAN (method h), two-sided as in the paper's reference code.

    With the notation of :class:`AugCGanDiscriminatorLoss`:

    - L_cyc = MSE(G_YX(y~, e_x), x) + MSE(G_XY(x~, e_y), y) (the cycle back uses the inferred codes);
    - L_id = MSE(G_XY(x_p, z_pair_y), y_p) + MSE(G_YX(y_p, z_pair_x), x_p) (prior codes, as the reference);
    - L_cyc_latent = MSE(E_Y(y~, x), z_y) + MSE(E_X(x~, y), z_x) (the encoders recover the prior code);
    - L_adv = CE(D_Y(y~), 1) + CE(D_X(x~), 1);
    - L_adv_latent = CE(DZ_X(e_x), 1) + CE(DZ_Y(e_y), 1) + CE(DZ_X(e_xp), 1) + CE(DZ_Y(e_yp), 1);

    ``loss = 1000 (L_cyc + L_id) + L_cyc_latent + L_adv + L_adv_latent``. Components ``cyc``, ``id``,
    ``cyc_latent``, ``adv``, ``adv_latent``.

    The encoders are trained as the method table builds them, with the final instance norm of SPEC section 4
    (:class:`~galtk.models.networks.augcgan.LatentEncoder`, ``final_norm=True``): method h is a baseline whose
    results the paper reports, and the reference code that produced them has that encoder, whose code is
    its last bias whatever the images. Only that bias learns (L_cyc_latent pulls it to the mean of the
    prior, the latent discriminators see one constant code); the translations stay stochastic through the
    prior codes of the first half-cycle and of L_id. ``final_norm=False`` would be a different, stronger
    baseline than the paper's.
    """

    content_weight: float = 1000.0

    def __call__(self, networks: Networks, batch: TrainingBatch) -> LossTerms:
        codes = draw_latent_codes(batch)
        forward = _augcgan_forward(networks, batch, codes)
        g_xy, g_yx, e_x, e_y = (networks[role] for role in ("G_XY", "G_YX", "E_X", "E_Y"))
        dz_x, dz_y = networks["DZ_X"], networks["DZ_Y"]
        x, y = batch.sdss, batch.cfht
        terms = {
            "cyc": content_loss(g_yx(forward.fake_y, forward.code_x), x)
            + content_loss(g_xy(forward.fake_x, forward.code_y), y),
            "id": content_loss(g_xy(batch.pair_sdss, codes.pair_y), batch.pair_cfht)
            + content_loss(g_yx(batch.pair_cfht, codes.pair_x), batch.pair_sdss),
            "cyc_latent": content_loss(e_y(forward.fake_y, x), codes.y)
            + content_loss(e_x(forward.fake_x, y), codes.x),
            "adv": adversarial_loss(networks["D_Y"](forward.fake_y), real=True)
            + adversarial_loss(networks["D_X"](forward.fake_x), real=True),
            "adv_latent": adversarial_loss(dz_x(forward.code_x), real=True)
            + adversarial_loss(dz_y(forward.code_y), real=True)
            + adversarial_loss(dz_x(forward.pair_code_x), real=True)
            + adversarial_loss(dz_y(forward.pair_code_y), real=True),
        }
        loss = (
            self.content_weight * (terms["cyc"] + terms["id"])
            + terms["cyc_latent"]
            + terms["adv"]
            + terms["adv_latent"]
        )
        return {"loss": loss, **_detached(terms)}


@dataclass(frozen=True)
class ConditionalDiscriminatorLoss:
    """pix2pix's discriminator objective (methods ``galaxygan`` and ``pix2pix``), on the training pairs.

    The batch's SDSS side holds the conditions x_p (degraded images, or the input surveys), its CFHT side
    the images y_p to produce (the originals, or the target survey)
    (:class:`~galtk.models.training.batches.degraded_pairs.DegradedPairSources`,
    :class:`~galtk.models.training.batches.survey_pairs.SurveyPairSources`). With G = ``generator`` run
    without gradients and D = ``discriminator`` judging (condition, image) pairs:
    ``loss = (CE(D(x_p, y_p), 1) + CE(D(x_p, G(x_p)), 0)) / 2``, halved as pix2pix does to slow the
    discriminator down. Component ``adv``. Draws no random numbers (G's dropout uses the global RNG).

    Attributes
    ----------
    generator, discriminator : str
        Roles of G and D.
    """

    generator: str = "G_REC"
    discriminator: str = "D_REC"

    def __call__(self, networks: Networks, batch: TrainingBatch) -> LossTerms:
        degraded, original = batch.pair_sdss, batch.pair_cfht
        with torch.no_grad():
            recovered = networks[self.generator](degraded)
        logits = networks[self.discriminator](
            torch.cat([degraded, degraded]), torch.cat([original, recovered])
        )
        real, fake = logits[: len(degraded)], logits[len(degraded) :]
        terms = {"adv": (adversarial_loss(real, real=True) + adversarial_loss(fake, real=False)) / 2}
        return {"loss": terms["adv"], **_detached(terms)}


@dataclass(frozen=True)
class ConditionalGeneratorLoss:
    """pix2pix's generator objective (methods ``galaxygan`` and ``pix2pix``):
    ``adversarial_weight CE(D(x_p, G(x_p)), 1) + l1_weight L1``.

    L1 is the mean absolute difference between G(x_p) and y_p (the notation of
    :class:`ConditionalDiscriminatorLoss`), in the rescaled units. Components ``adv`` and ``l1`` (``adv`` is
    logged even when its weight is 0: how far the translations are from fooling D).

    Attributes
    ----------
    l1_weight : float
        Weight of the L1 term (GalaxyGAN's and pix2pix's lambda = 100).
    adversarial_weight : float
        Weight of the adversarial term (pix2pix's 1; 0 trains G on L1 alone, ``[train] adversarial_weight``).
    generator, discriminator : str
        Roles of G and D.
    """

    l1_weight: float = 100.0
    adversarial_weight: float = 1.0
    generator: str = "G_REC"
    discriminator: str = "D_REC"

    def __call__(self, networks: Networks, batch: TrainingBatch) -> LossTerms:
        degraded, original = batch.pair_sdss, batch.pair_cfht
        recovered = networks[self.generator](degraded)
        terms = {
            "adv": adversarial_loss(networks[self.discriminator](degraded, recovered), real=True),
            "l1": (recovered.float() - original.float()).abs().mean(),
        }
        loss = self.adversarial_weight * terms["adv"] + self.l1_weight * terms["l1"]
        return {"loss": loss, **_detached(terms)}


GENERATORS = ("G_XY", "G_YX")
DISCRIMINATORS = ("D_X", "D_Y")
NOISE_EMULATORS = ("NE_X", "NE_Y")
AUTOENCODERS = ("A_X", "A_Y")
CONTENT_WEIGHT = 1000.0
"""Weight of the content losses against the adversarial loss in the GAN baselines (methods a-e, g, h)."""
