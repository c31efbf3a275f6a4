"""The method table: every method of SPEC section 5 in one record, from its networks to how it translates.

A :class:`Method` names its networks (:class:`~galtk.models.network_kinds.NetworkSpec`: role, kind,
shapes), its training stages (:class:`~galtk.models.training.updates.Stage`: the updates of an iteration and
their losses, the CFHT array read, the networks loaded frozen) and how it translates (the CFHT grid of its
last stage, latent codes). ``galtk models`` lists the table, ``galtk train`` runs a record's stages,
``galtk translate`` and ``galtk evaluate`` load a record's generators. Adding a baseline is one entry in
:data:`METHODS`.

X is SDSS (64 x 64 px), Y is CFHT (136 x 136 px, or 64 x 64 px regridded for methods g and h).
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from galtk.errors import GaltkError
from galtk.models.network_kinds import (
    CFHT_SIZE,
    KINDS,
    LATENT_CODE,
    REGRIDDED_CFHT_SIZE,
    SDSS_SIZE,
    NetworkSpec,
    image_shape,
    noise_emulator_spec,
    our_discriminators,
    our_generators,
    patchgan_discriminators,
)
from galtk.models.networks.init import InitScheme
from galtk.models.training.settings import TrainSettings, settings_to_dict
from galtk.models.training.updates import (
    AUTOENCODERS,
    CONTENT_WEIGHT,
    DISCRIMINATORS,
    GENERATORS,
    NOISE_EMULATORS,
    AugCGanDiscriminatorLoss,
    AugCGanGeneratorLoss,
    AutoencodedImages,
    AutoencoderLoss,
    CfhtArray,
    ConditionalDiscriminatorLoss,
    ConditionalGeneratorLoss,
    DiscriminatorLoss,
    NoiseEmulatorLoss,
    Stage,
    TranslatedImages,
    TranslationLoss,
    Update,
)


@dataclass(frozen=True)
class Method:
    """One method: its networks, its training stages and how it translates.

    Attributes
    ----------
    name : str
        Canonical name (``galtk train --method NAME``).
    paper : str
        Label in the paper.
    aliases : tuple of str
        Other accepted names: the reference code's numbers and the paper's case letters.
    networks : tuple of NetworkSpec
        Every network of the method (those of both steps for ``ours`` and its single steps).
    stages : tuple of Stage
        Trained one after the other (two for ``ours``, one otherwise).
    latent_codes : bool
        The generators take a latent code as a second input (AugCGAN): translations draw one per seed.
    listed : bool
        Shown by ``galtk models`` (False for the single steps of ``ours``, which share its networks).
    pairs : {"crossmatch", "degraded", "surveys"}
        What it trains on: the cross-match outputs (SDSS and CFHT), the (degraded, original) pairs of
        one survey written by ``galtk degrade`` (``galaxygan``), or the pairs across several surveys of
        ``galtk crossmatch --surveys`` (``pix2pix-multi``: input surveys into a target survey).
    settings : tuple of (str, value)
        ``[train]`` settings the method takes unless galtk.toml or a flag sets them (GalaxyGAN's optimiser).
    """

    name: str
    paper: str
    aliases: tuple[str, ...]
    networks: tuple[NetworkSpec, ...]
    stages: tuple[Stage, ...]
    latent_codes: bool = False
    listed: bool = True
    pairs: Literal["crossmatch", "degraded", "surveys"] = "crossmatch"
    settings: tuple[tuple[str, Any], ...] = ()

    @property
    def cfht_array(self) -> CfhtArray:
        """The CFHT array its translations work on: that of its last stage."""
        return self.stages[-1].cfht_array


def _roles(networks: tuple[NetworkSpec, ...]) -> tuple[str, ...]:
    return tuple(network.role for network in networks)


OURS_NETWORKS = (
    NetworkSpec("A_X", KINDS["autoencoder"], (image_shape(SDSS_SIZE),), image_shape(SDSS_SIZE), "step 1"),
    NetworkSpec("A_Y", KINDS["autoencoder"], (image_shape(CFHT_SIZE),), image_shape(CFHT_SIZE), "step 1"),
    noise_emulator_spec("NE_X", SDSS_SIZE, "step 1"),
    noise_emulator_spec("NE_Y", CFHT_SIZE, "step 1"),
    *our_discriminators("step 1"),
    *our_generators(step="step 2"),
)
ADAPTED_NETWORKS = (*our_generators(), *our_discriminators())
PIXEL_SHUFFLE_NETWORKS = (*our_generators(pixel_shuffle=True), *our_discriminators())
OURS_AUTO_NETWORKS = (
    *our_generators(),
    noise_emulator_spec("NE_X", SDSS_SIZE),
    noise_emulator_spec("NE_Y", CFHT_SIZE),
    *our_discriminators(),
)
CYCLEGAN_NETWORKS = (
    NetworkSpec(
        "G_XY", KINDS["cyclegan-generator"], (image_shape(SDSS_SIZE),), image_shape(REGRIDDED_CFHT_SIZE)
    ),
    NetworkSpec(
        "G_YX", KINDS["cyclegan-generator"], (image_shape(REGRIDDED_CFHT_SIZE),), image_shape(SDSS_SIZE)
    ),
    *patchgan_discriminators(),
)
AUGCGAN_NETWORKS = (
    NetworkSpec(
        "G_XY",
        KINDS["augcgan-generator"],
        (image_shape(SDSS_SIZE), LATENT_CODE),
        image_shape(REGRIDDED_CFHT_SIZE),
    ),
    NetworkSpec(
        "G_YX",
        KINDS["augcgan-generator"],
        (image_shape(REGRIDDED_CFHT_SIZE), LATENT_CODE),
        image_shape(SDSS_SIZE),
    ),
    NetworkSpec(
        "E_Y",
        KINDS["latent-encoder"],
        (image_shape(REGRIDDED_CFHT_SIZE), image_shape(SDSS_SIZE)),
        LATENT_CODE,
    ),
    NetworkSpec(
        "E_X",
        KINDS["latent-encoder"],
        (image_shape(SDSS_SIZE), image_shape(REGRIDDED_CFHT_SIZE)),
        LATENT_CODE,
    ),
    *patchgan_discriminators(),
    NetworkSpec("DZ_X", KINDS["latent-discriminator"], (LATENT_CODE,), ("B", 1)),
    NetworkSpec("DZ_Y", KINDS["latent-discriminator"], (LATENT_CODE,), ("B", 1)),
)

OURS_STEP1 = Stage(
    "step1",
    roles=(*AUTOENCODERS, *NOISE_EMULATORS, *DISCRIMINATORS),
    frozen=(),
    cfht_array="rescaled",
    updates=(
        Update("A", AUTOENCODERS, AutoencoderLoss()),
        Update("D", DISCRIMINATORS, DiscriminatorLoss(AutoencodedImages())),
        Update("NE", NOISE_EMULATORS, NoiseEmulatorLoss(AutoencodedImages())),
    ),
)
OURS_STEP2 = Stage(
    "step2",
    roles=(*GENERATORS, *NOISE_EMULATORS),
    frozen=NOISE_EMULATORS,
    cfht_array="rescaled",
    updates=(Update("G", GENERATORS, TranslationLoss(cycle=True, identity=True, noise=True)),),
)
OURS_AUTO_STAGE = Stage(
    "train",
    roles=_roles(OURS_AUTO_NETWORKS),
    frozen=(),
    cfht_array="rescaled",
    updates=(
        Update("G", GENERATORS, TranslationLoss(cycle=True, identity=True, noise=True)),
        Update("D", DISCRIMINATORS, DiscriminatorLoss(TranslatedImages(noise=True))),
        Update("NE", NOISE_EMULATORS, NoiseEmulatorLoss(TranslatedImages(noise=True))),
    ),
)
AUGCGAN_STAGE = Stage(
    "train",
    roles=_roles(AUGCGAN_NETWORKS),
    frozen=(),
    cfht_array="regridded",
    updates=(
        Update("D", (*DISCRIMINATORS, "DZ_X", "DZ_Y"), AugCGanDiscriminatorLoss()),
        Update("G", (*GENERATORS, "E_X", "E_Y"), AugCGanGeneratorLoss(CONTENT_WEIGHT)),
    ),
)
GALAXYGAN_NETWORKS = (
    NetworkSpec("G_REC", KINDS["unet-generator"], (image_shape(SDSS_SIZE),), image_shape(SDSS_SIZE)),
    NetworkSpec(
        "D_REC",
        KINDS["conditional-patchgan"],
        (image_shape(SDSS_SIZE), image_shape(SDSS_SIZE)),
        ("B", 1, SDSS_SIZE // 8, SDSS_SIZE // 8),
    ),
)
"""GalaxyGAN: G_REC recovers an original from its degraded copy, D_REC judges (degraded, image) pairs. Shapes
are those of SDSS cutouts; both networks take any size (the PatchGAN, multiples of 8)."""
GALAXYGAN_STAGE = Stage(
    "train",
    roles=_roles(GALAXYGAN_NETWORKS),
    frozen=(),
    cfht_array="rescaled",
    updates=(
        Update("D", ("D_REC",), ConditionalDiscriminatorLoss()),
        Update("G", ("G_REC",), ConditionalGeneratorLoss()),
    ),
)
GALAXYGAN_SETTINGS = (("learning_rate", 2e-4), ("beta1", 0.5), ("lr_decay_factor", 1.0), ("batch_size", 1))
MULTI_INPUT_METHOD = "pix2pix-multi"
"""What ``--method pix2pix`` trains when input surveys are given (``--inputs``)."""
PIX2PIX_NETWORKS = (
    NetworkSpec(
        "G_MULTI", KINDS["unet-generator"], (image_shape(SDSS_SIZE, "C_in"),), image_shape(SDSS_SIZE)
    ),
    NetworkSpec(
        "D_MULTI",
        KINDS["conditional-patchgan"],
        (image_shape(SDSS_SIZE, "C_in"), image_shape(SDSS_SIZE)),
        ("B", 1, SDSS_SIZE // 8, SDSS_SIZE // 8),
    ),
)
"""Multi-input pix2pix (``pix2pix-multi``, or ``pix2pix`` given input surveys): G_MULTI makes the target
survey's C bands from the input surveys' C_in bands concatenated on the target grid; D_MULTI judges (inputs,
image) pairs. Shapes are given for the SDSS grid; both networks take any size (the PatchGAN, multiples
of 8)."""
PIX2PIX_STAGE = Stage(
    "train",
    roles=_roles(PIX2PIX_NETWORKS),
    frozen=(),
    cfht_array="rescaled",
    updates=(
        Update("D", ("D_MULTI",), ConditionalDiscriminatorLoss("G_MULTI", "D_MULTI")),
        Update("G", ("G_MULTI",), ConditionalGeneratorLoss(generator="G_MULTI", discriminator="D_MULTI")),
    ),
)
"""GalaxyGAN's optimiser (Adam, lr 2e-4, beta1 0.5, no decay); batch_size 1 keeps the unpaired draws, which
its losses never read, small."""


def _gan_stage(
    networks: tuple[NetworkSpec, ...], cfht_array: CfhtArray, **generator_terms: bool
) -> tuple[Stage]:
    """The one stage of a GAN baseline: the discriminators' update, then the generators' (methods a-e, g)."""
    generator_loss = TranslationLoss(adversarial=True, content_weight=CONTENT_WEIGHT, **generator_terms)
    stage = Stage(
        "train",
        roles=_roles(networks),
        frozen=(),
        cfht_array=cfht_array,
        updates=(
            Update("D", DISCRIMINATORS, DiscriminatorLoss(TranslatedImages(noise=False))),
            Update("G", GENERATORS, generator_loss),
        ),
    )
    return (stage,)


METHODS: dict[str, Method] = {
    method.name: method
    for method in (
        Method("ours", "Ours (two steps)", (), OURS_NETWORKS, (OURS_STEP1, OURS_STEP2)),
        Method("ours-step1", "Ours, step 1", ("1",), OURS_NETWORKS, (OURS_STEP1,), listed=False),
        Method("ours-step2", "Ours, step 2", ("2",), OURS_NETWORKS, (OURS_STEP2,), listed=False),
        Method(
            "pix2pix",
            "(a) Ad.pix2pix",
            ("3", "a"),
            ADAPTED_NETWORKS,
            _gan_stage(ADAPTED_NETWORKS, "rescaled", identity=True),
        ),
        Method(
            "cyclegan-adapted",
            "(b) Ad.CycleGAN",
            ("4", "b"),
            ADAPTED_NETWORKS,
            _gan_stage(ADAPTED_NETWORKS, "rescaled", cycle=True),
        ),
        Method(
            "cyclegan-pid",
            "(c) Ad.CycleGAN+PID",
            ("5", "c"),
            ADAPTED_NETWORKS,
            _gan_stage(ADAPTED_NETWORKS, "rescaled", cycle=True, pseudo_identity=True),
        ),
        Method(
            "cyclegan-id",
            "(d) Ad.CycleGAN+ID",
            ("6", "d"),
            ADAPTED_NETWORKS,
            _gan_stage(ADAPTED_NETWORKS, "rescaled", cycle=True, identity=True),
        ),
        Method(
            "cyclegan-id-ps",
            "(e) Ad.CycleGAN+ID+PS",
            ("7", "e"),
            PIXEL_SHUFFLE_NETWORKS,
            _gan_stage(PIXEL_SHUFFLE_NETWORKS, "rescaled", cycle=True, identity=True),
        ),
        Method("ours-auto", "(f) Ours-Auto", ("8", "f"), OURS_AUTO_NETWORKS, (OURS_AUTO_STAGE,)),
        Method(
            "cyclegan",
            "(g) CycleGAN",
            ("9", "g"),
            CYCLEGAN_NETWORKS,
            _gan_stage(CYCLEGAN_NETWORKS, "regridded", cycle=True),
        ),
        Method("augcgan", "(h) AugCGAN", ("10", "h"), AUGCGAN_NETWORKS, (AUGCGAN_STAGE,), latent_codes=True),
        Method(
            "galaxygan",
            "GalaxyGAN (recovery)",
            (),
            GALAXYGAN_NETWORKS,
            (GALAXYGAN_STAGE,),
            pairs="degraded",
            settings=GALAXYGAN_SETTINGS,
        ),
        Method(
            "pix2pix-multi",
            "pix2pix, several input surveys",
            (),
            PIX2PIX_NETWORKS,
            (PIX2PIX_STAGE,),
            pairs="surveys",
            settings=GALAXYGAN_SETTINGS,
        ),
    )
}
"""Every method by canonical name. ``ours`` runs step 1 then step 2; ``ours-step1`` (alias ``1``) and
``ours-step2`` (alias ``2``) run one step each, as the reference code's methods 1 and 2 do."""


def known_method_names() -> str:
    """Accepted names with their aliases, for messages: ``"ours, ours-step1 (1), ..., augcgan (10, h)"``."""
    return ", ".join(
        f"{method.name} ({', '.join(method.aliases)})" if method.aliases else method.name
        for method in METHODS.values()
    )


def resolve_method(name: str) -> Method:
    """The method called ``name``: a canonical name, a reference-code number or a paper letter (any case).

    Parameters
    ----------
    name : str
        For example ``"ours"``, ``"ours-step2"``, ``"2"``, ``"c"`` or ``"CycleGAN-PID"``.

    Returns
    -------
    Method

    Raises
    ------
    galtk.errors.GaltkError
        If no method has that name, with the list of known names.
    """
    key = name.strip().lower()
    for method in METHODS.values():
        if key == method.name or key in method.aliases:
            return method
    raise GaltkError(f"unknown method {name!r}; known methods: {known_method_names()}")


def same_networks(first: str, second: str) -> bool:
    """True when two methods train the same networks (``ours`` and its single steps)."""
    return resolve_method(first).networks == resolve_method(second).networks


def configure_method(
    method: Method,
    *,
    content_loss: str = "mse",
    content_weight: float = CONTENT_WEIGHT,
    adversarial_weight: float = 1.0,
) -> Method:
    """``method`` with the content-loss settings applied to its stages.

    ``content_loss="noise-weighted"`` sets ``noise_weighted`` on every :class:`AutoencoderLoss` and
    :class:`TranslationLoss` of a stage that has NE_X and NE_Y (ours' two steps, ours-auto); the GAN
    baselines, which have no noise model, keep the paper's plain MSE. ``content_weight`` replaces the weight
    of the content terms of the GAN baselines' generator losses (the paper's 1000, :data:`CONTENT_WEIGHT`).
    ``adversarial_weight`` replaces that of the adversarial term of pix2pix's generator loss
    (:class:`ConditionalGeneratorLoss`: methods ``galaxygan`` and ``pix2pix-multi``).

    Parameters
    ----------
    method : Method
        A method of :data:`METHODS`.
    content_loss : {"mse", "noise-weighted"}
        ``[train] content_loss``.
    content_weight : float
        ``[train] content_weight``.
    adversarial_weight : float
        ``[train] adversarial_weight``.

    Returns
    -------
    Method
    """
    if content_loss not in ("mse", "noise-weighted"):
        raise GaltkError(f"unknown content_loss {content_loss!r}; known: noise-weighted, mse")

    def configured(update: Update, has_noise_emulators: bool) -> Update:
        loss = update.loss
        if content_loss == "noise-weighted" and has_noise_emulators:
            if isinstance(loss, AutoencoderLoss | TranslationLoss):
                loss = dataclasses.replace(loss, noise_weighted=True)
        elif _is_gan_generator_loss(loss):
            loss = dataclasses.replace(loss, content_weight=content_weight)
        elif isinstance(loss, ConditionalGeneratorLoss):
            loss = dataclasses.replace(loss, adversarial_weight=adversarial_weight)
        return dataclasses.replace(update, loss=loss)

    stages = tuple(
        dataclasses.replace(
            stage,
            updates=tuple(configured(u, set(NOISE_EMULATORS) <= set(stage.roles)) for u in stage.updates),
        )
        for stage in method.stages
    )
    return dataclasses.replace(method, stages=stages)


def _is_gan_generator_loss(loss: object) -> bool:
    """The generator loss of a GAN baseline: content terms weighed against an adversarial term."""
    return (isinstance(loss, TranslationLoss) and loss.adversarial) or isinstance(loss, AugCGanGeneratorLoss)


def build_networks(
    method: str | Method,
    *,
    bands: int = 5,
    width: float = 1.0,
    init: InitScheme = "glorot",
    device: torch.device | str | None = None,
    roles: tuple[str, ...] | None = None,
    in_bands: int | None = None,
) -> dict[str, nn.Module]:
    """Build the networks of a method, keyed by role (``"G_XY"``, ``"NE_Y"``, ...).

    Parameters
    ----------
    method : str or Method
        Method, or its name or alias (see :func:`resolve_method`).
    bands : int, optional
        Number of bands C.
    width : float, optional
        Scale of every hidden channel count.
    init : {"glorot", "pytorch"}, optional
        Weight initialisation.
    device : torch.device or str, optional
        Device to build on (``"meta"`` builds without memory); the default device if None.
    roles : tuple of str, optional
        Build only these roles, in this order (e.g. a stage's ``roles``); default: all, in table order.
    in_bands : int, optional
        Input bands C_in of the networks that read several surveys (``pix2pix``'s); default ``bands``.

    Returns
    -------
    dict of str to torch.nn.Module
    """
    spec = resolve_method(method) if isinstance(method, str) else method
    kinds = {network.role: network.kind for network in spec.networks}
    unknown = [role for role in roles or () if role not in kinds]
    if unknown:
        raise GaltkError(f"{spec.name} has no network {unknown[0]}")
    with torch.device(device) if device is not None else contextlib.nullcontext():
        return {
            role: kinds[role].build(bands, width, init, in_bands if kinds[role].takes_input_bands else None)
            for role in roles or tuple(kinds)
        }


def workspace_train_table() -> dict[str, Any]:
    """``[train]`` as ``galtk init`` writes it: every setting's default, then a ``[train.METHOD]`` table
    for each method with settings of its own (``galaxygan``)."""
    tables = {method.name: dict(method.settings) for method in METHODS.values() if method.settings}
    return {**settings_to_dict(TrainSettings()), **tables}
