"""The training loop: every stage of a method, its updates, checkpoints, logs and sample grids.

Each iteration runs the stage's updates in order. For one update: the gradients of the parameters it owns are
cleared, its loss is computed (under bf16 autocast when enabled), back-propagated into those parameters only,
averaged over the processes of a multi-GPU run, clipped to a global norm and applied by the update's own Adam,
whose learning rate follows a step schedule. Rank 0 logs the loss terms, writes sample grids and checkpoints;
a run restarted from its run directory continues from the newest valid checkpoint with the optimizer,
scheduler and random-number states it had, so it reproduces an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from galtk import __version__
from galtk.errors import CheckpointError, TrainingError
from galtk.models.methods import Method, build_networks, configure_method
from galtk.models.training.batches.loader import TrainingBatch
from galtk.models.training.checkpoint import (
    FORMAT,
    capture_rng_state,
    check_compatible,
    checkpoint_holding,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    prune_checkpoints,
    restore_rng_state,
    save_checkpoint,
)
from galtk.models.training.distributed import Distributed, average_gradients, broadcast_parameters
from galtk.models.training.logs import LossCsv, TensorBoardLog
from galtk.models.training.noise_levels import measure_noise_levels
from galtk.models.training.run import RunDirectory
from galtk.models.training.samples import sample_sets, write_samples
from galtk.models.training.settings import (
    TrainSettings,
    autocast_dtype,
    learning_rate_factor,
    settings_to_dict,
    stage_iterations,
)
from galtk.models.training.updates import NOISE_EMULATORS, Stage, Update

log = logging.getLogger(__name__)


class BatchSource(Protocol):
    """The batches of one stage (:class:`~galtk.models.training.batches.loader.StoreBatchSource` in a run)."""

    def batch(self, iteration: int) -> TrainingBatch:
        """The batch of ``iteration``, a deterministic function of it."""
        ...

    def batches(self, start: int, stop: int) -> Iterator[tuple[int, TrainingBatch]]:
        """(iteration, batch) for ``start <= iteration < stop``."""
        ...


class BatchSources(Protocol):
    """Where a run's batches come from: the :class:`BatchSource` of each stage, for this process.

    :class:`galtk.models.training.batches.sources.StoreBatchSources` (the cross-match outputs) in a real run.
    """

    def __call__(self, stage: Stage, context: Distributed, settings: TrainSettings) -> BatchSource:
        """Batches of ``stage`` (its ``cfht_array``) for rank ``context.rank`` of ``context.world_size``."""
        ...

    def open_all(self, method: Method, context: Distributed, settings: TrainSettings) -> list[Any]:
        """Open the sources of every stage (raising on missing inputs); returns objects with ``bands``."""
        ...

    def describe(self) -> dict[str, Any]:
        """The data read (JSON-ready), for the run snapshot."""
        ...


class TrainingObserver(Protocol):
    """Progress reports of :func:`train` (rank 0 only)."""

    def stage_started(self, stage: str, done: int, total: int) -> None:
        """``stage`` starts (or resumes) with ``done`` of ``total`` iterations behind it."""
        ...

    def iteration_done(self, stage: str, done: int, losses: Mapping[str, float] | None) -> None:
        """One more iteration; ``losses`` are the logged means when a log row was written, else None."""
        ...


@dataclass
class StageResult:
    """What one launch did in one stage.

    Attributes
    ----------
    stage : str
        Stage name.
    first_iteration : int
        Iterations already done when this launch reached the stage (0, or those of its checkpoint).
    iterations : int
        Iterations done at the end.
    seconds : float
        Wall time this launch spent training the stage.
    losses : dict of str to float
        The last logged row (``UPDATE/TERM`` means).
    checkpoint : Path or None
        The stage's final checkpoint (None on ranks other than 0).
    networks : dict of str to torch.nn.Module
        The stage's networks as trained (on this process's device).
    """

    stage: str
    first_iteration: int
    iterations: int
    seconds: float
    losses: dict[str, float] = field(default_factory=dict)
    checkpoint: Path | None = None
    networks: dict[str, nn.Module] = field(default_factory=dict, repr=False)

    @property
    def iterations_per_second(self) -> float:
        """Rate of this launch (0 if it trained nothing)."""
        done = self.iterations - self.first_iteration
        return done / self.seconds if done and self.seconds > 0 else 0.0


@dataclass
class TrainingReport:
    """Result of :func:`train`: the run directory and one :class:`StageResult` per stage."""

    run: Path
    method: str
    stages: list[StageResult]


def train(
    method: Method,
    settings: TrainSettings,
    run: RunDirectory,
    data: BatchSources,
    *,
    bands: Sequence[str],
    context: Distributed | None = None,
    frozen_from: Path | None = None,
    observer: TrainingObserver | None = None,
    input_bands: Sequence[str] | None = None,
) -> TrainingReport:
    """Train every stage of ``method``, continuing from the run's newest checkpoints if there are any.

    Parameters
    ----------
    method : Method
        What to train (a record of :data:`galtk.models.methods.METHODS`).
    settings : TrainSettings
        Iterations per stage, batch sizes, optimisation, device, precision, intervals.
    run : RunDirectory
        The run directory (its snapshot written already); checkpoints found there are resumed from.
    data : BatchSources
        Batches of each stage for this process.
    bands : sequence of str
        Band names of the images (their count sets the networks' channels).
    input_bands : sequence of str, optional
        Channel names of the generators' inputs when they differ from ``bands`` (``pix2pix``'s input
        surveys concatenated); their count sets those networks' input channels.
    context : Distributed, optional
        Rank, world size and device of this process (default: one process on the CPU).
    frozen_from : Path, optional
        Checkpoint, or run directory, holding the frozen networks of a first stage that has some
        (``ours-step2``); later stages take them from the previous stage of this run.
    observer : TrainingObserver, optional
        Receives progress (used on rank 0 only).

    Returns
    -------
    TrainingReport

    Raises
    ------
    TrainingError
        If a loss becomes non-finite or frozen networks cannot be found.
    CheckpointError
        If a checkpoint to resume from belongs to another configuration.
    """
    context = context or Distributed()
    method = configure_method(
        method,
        content_loss=settings.content_loss,
        content_weight=settings.content_weight,
        adversarial_weight=settings.adversarial_weight,
    )
    _configure_backends(context.device)
    observer = observer if context.is_main else None
    stage_names = [stage.name for stage in method.stages]
    results = []
    for index, stage in enumerate(method.stages):

        def frozen_source(index: int = index) -> Path:
            return _frozen_source(method, index, run, settings, frozen_from, context)

        runner = _StageRunner(
            method=method,
            stage=stage,
            index=index,
            settings=settings,
            run=run,
            bands=tuple(bands),
            context=context,
            stage_names=stage_names,
            input_bands=tuple(input_bands) if input_bands is not None else None,
        )
        results.append(runner.run(data, frozen_source, observer))
    context.barrier()
    return TrainingReport(run.root, method.name, results)


def _configure_backends(device: torch.device) -> None:
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        torch.backends.cudnn.benchmark = True


def stage_seed(seed: int, stage_index: int, rank: int) -> int:
    """Seed of torch's generator while a process trains a stage (noise seeds, latent codes)."""
    return int(np.random.SeedSequence([seed, stage_index, rank]).generate_state(1)[0])


def _frozen_source(
    method: Method,
    index: int,
    run: RunDirectory,
    settings: TrainSettings,
    frozen_from: Path | None,
    context: Distributed,
) -> Path:
    """Checkpoint holding the frozen networks of stage ``index`` (decided on rank 0)."""
    stage = method.stages[index]
    path: Path | None = None
    problem = ""
    if context.is_main:
        if index > 0:
            previous = method.stages[index - 1].name
            found = list_checkpoints(run.checkpoints(previous))
            if found and found[-1][0] >= stage_iterations(settings, previous):
                path = found[-1][1]
            else:
                problem = f"stage {previous} of {run.root} has no final checkpoint"
        elif frozen_from is None:
            problem = (
                f"{method.name} trains with frozen {', '.join(stage.frozen)} from a finished earlier step:"
                " pass --frozen-from RUN_DIR (a run of ours or ours-step1) or a checkpoint file"
            )
        else:
            path, problem = _find_frozen_checkpoint(frozen_from, stage.frozen)
    path, problem = context.broadcast_object((path, problem))
    if path is None:
        raise TrainingError(problem)
    return path


def _find_frozen_checkpoint(source: Path, roles: Sequence[str]) -> tuple[Path | None, str]:
    if source.is_file():
        return source, ""
    if not source.is_dir():
        return None, f"--frozen-from {source}: no such checkpoint file or run directory"
    found = checkpoint_holding(source, roles)
    if found is None:
        return None, f"--frozen-from {source}: no checkpoint there holds {', '.join(roles)}"
    return found, ""


class _StageRunner:
    """The state of one stage of one process: networks, optimizers, schedulers, logs."""

    def __init__(
        self,
        *,
        method: Method,
        stage: Stage,
        index: int,
        settings: TrainSettings,
        run: RunDirectory,
        bands: tuple[str, ...],
        context: Distributed,
        stage_names: list[str],
        input_bands: tuple[str, ...] | None = None,
    ) -> None:
        self.method = method
        self.stage = stage
        self.index = index
        self.settings = settings
        self.run_dir = run
        self.bands = bands
        self.input_bands = input_bands if input_bands is not None and input_bands != bands else None
        self.context = context
        self.stage_names = stage_names
        self.device = context.device
        self.autocast = autocast_dtype(settings.precision, self.device)
        self.total = stage_iterations(settings, stage.name)
        self.seconds_before = 0.0
        self.last_losses: dict[str, float] = {}

    # ----------------------------------------------------------------------------------------------- setup

    def _build(self) -> None:
        torch.manual_seed(self.settings.seed + self.index)  # identical initial weights on every rank
        self.networks = build_networks(
            self.method,
            roles=self.stage.roles,
            bands=len(self.bands),
            width=self.settings.width,
            device=self.device,
            in_bands=len(self.input_bands) if self.input_bands else None,
        )
        for role in self.stage.frozen:
            self.networks[role].requires_grad_(False)
        self.runnable: dict[str, nn.Module] = dict(self.networks)
        if self.settings.compile:
            self.runnable = {role: torch.compile(net) for role, net in self.networks.items()}
        self.owned: dict[str, list[torch.Tensor]] = {}
        self.optimizers: dict[str, torch.optim.Adam] = {}
        self.schedulers: dict[str, torch.optim.lr_scheduler.LambdaLR] = {}
        settings = self.settings
        for update in self.stage.updates:
            params = self._owned_parameters(update)
            self.owned[update.name] = params
            factor = settings.noise_lr_factor if set(update.owns) <= set(NOISE_EMULATORS) else 1.0
            optimizer = torch.optim.Adam(
                params,
                lr=settings.learning_rate * factor,
                betas=(settings.beta1, settings.beta2),
                eps=settings.eps,
                fused=self.device.type == "cuda",
            )
            self.optimizers[update.name] = optimizer
            self.schedulers[update.name] = torch.optim.lr_scheduler.LambdaLR(
                optimizer, lambda step: learning_rate_factor(step, settings)
            )

    def _owned_parameters(self, update: Update) -> list[torch.Tensor]:
        params = []
        for role in update.owns:
            if role not in self.networks or role in self.stage.frozen:
                raise TrainingError(f"update {update.name} owns {role}, which is not a trainable network")
            params.extend(self.networks[role].parameters())
        return params

    def _identity(self) -> dict[str, Any]:
        identity = {"method": self.method.name, "stage": self.stage.name, "bands": list(self.bands)}
        if self.input_bands:
            identity["input_bands"] = list(self.input_bands)
        return identity

    def _load_frozen(self, path: Path) -> None:
        state = load_checkpoint(path, map_location=self.device)
        check_compatible(
            state, source=path, expected={"bands": list(self.bands), "width": self.settings.width}
        )
        for role in self.stage.frozen:
            if role not in state["networks"]:
                raise TrainingError(f"checkpoint {path} holds no {role}")
            self._load_network(role, state["networks"][role], path)
        if state.get("iteration", 0) < state.get("stage_iterations", 0):
            log.warning(
                "frozen %s come from %s, taken after %d of %d iterations",
                ", ".join(self.stage.frozen),
                path,
                state["iteration"],
                state["stage_iterations"],
            )

    def _load_network(self, role: str, weights: Mapping[str, torch.Tensor], path: Path) -> None:
        try:
            self.networks[role].load_state_dict(weights)
        except RuntimeError as error:
            first = str(error).strip().splitlines()[0]
            raise CheckpointError(f"{role} of {path} does not fit this run's network: {first}") from None

    def _resume(self, path: Path, state: dict[str, Any]) -> int:
        check_compatible(state, source=path, expected={**self._identity(), "width": self.settings.width})
        for role in self.networks:
            self._load_network(role, state["networks"][role], path)
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
            self.schedulers[name].load_state_dict(state["schedulers"][name])
        rng_states = state["rng"]
        if self.context.rank < len(rng_states) and len(rng_states) == self.context.world_size:
            restore_rng_state(rng_states[self.context.rank])
        else:
            log.warning(
                "%s was written by %d process(es), this run has %d: random numbers are reseeded, so the run"
                " will not repeat an uninterrupted one exactly",
                path,
                len(rng_states),
                self.context.world_size,
            )
            reseed = stage_seed(self.settings.seed + state["iteration"], self.index, self.context.rank)
            torch.manual_seed(reseed)
        self.seconds_before = float(state.get("seconds", 0.0))
        self.last_losses = dict(state.get("losses", {}))
        return int(state["iteration"])

    def _use_measured_noise(self, source: BatchSource) -> None:
        """Measure the training images' noise for the stage's Noise Emulators and generators (fresh start).

        Trainable emulators record the measured sigma (the noise unit of the noise-weighted losses) and,
        with ``noise_emulator = "measured"``, start at it; with ``generator_units = "noise"`` the generators
        of a stage with emulators (frozen or not) read and write in units of the emulators' sigma.
        """
        roles = [role for role in NOISE_EMULATORS if role in self.networks and role not in self.stage.frozen]
        if roles:
            levels = measure_noise_levels(source)
            for role, sigma, ratio in zip(NOISE_EMULATORS, *levels, strict=True):
                if role not in roles:
                    continue
                if self.settings.noise_emulator == "measured":
                    self.networks[role].condition(sigma, ratio)
                else:
                    self.networks[role].set_measured_sigma(sigma)
                log.info(
                    "%s: %s measured noise %s, high-passed share %s",
                    self.stage.name,
                    role,
                    sigma.tolist(),
                    ratio.tolist(),
                )
        have_noise = all(role in self.networks for role in NOISE_EMULATORS)
        if self.settings.generator_units == "noise" and have_noise:
            sigma_x, sigma_y = (self.networks[role].measured_sigma for role in NOISE_EMULATORS)
            for role, units in (("G_XY", (sigma_x, sigma_y)), ("G_YX", (sigma_y, sigma_x))):
                if role in self.networks and role not in self.stage.frozen:
                    self.networks[role].set_noise_units(*units)

    def _start(self, frozen_source: Callable[[], Path], data: BatchSources) -> int:
        """Build, then load the newest checkpoint or else the frozen networks; return the iterations done."""
        self._build()
        found = None
        if self.context.is_main:
            found = latest_checkpoint(self.run_dir.checkpoints(self.stage.name))
        path = self.context.broadcast_object(found[0] if found else None)
        if path is not None:
            state = found[1] if found else load_checkpoint(path, map_location=self.device)
            done = self._resume(path, state)
            log.info("%s: resuming from %s", self.stage.name, path)
            return done
        if self.stage.frozen:
            self._load_frozen(frozen_source())
        self._use_measured_noise(data(self.stage, self.context, self.settings))
        broadcast_parameters(list(self.networks.values()))
        torch.manual_seed(stage_seed(self.settings.seed, self.index, self.context.rank))
        return 0

    # -------------------------------------------------------------------------------------------- the loop

    def run(
        self, data: BatchSources, frozen_source: Callable[[], Path], observer: TrainingObserver | None
    ) -> StageResult:
        """Train the stage to its iterations (:func:`stage_iterations`); return what this launch did.

        ``frozen_source()`` gives the checkpoint of the frozen networks; it is asked only when the stage
        starts afresh (a resumed stage has them in its own checkpoint).
        """
        first = self._start(frozen_source, data)
        result = StageResult(self.stage.name, first, first, 0.0, dict(self.last_losses), None, self.networks)
        if observer is not None:
            observer.stage_started(self.stage.name, min(first, self.total), self.total)
        if first >= self.total:
            found = list_checkpoints(self.run_dir.checkpoints(self.stage.name))
            result.checkpoint = found[-1][1] if found else None
            return result
        source = data(self.stage, self.context, self.settings)
        main = self.context.is_main
        csv = LossCsv(self.run_dir.losses, self.stage_names) if main else None
        board = TensorBoardLog(self.run_dir.tensorboard, self._global_step(first)) if main else None
        if csv is not None:
            csv.truncate(self.stage.name, first)
        samples = []
        if main and self.settings.sample_every:
            samples = sample_sets(self.stage.roles, source.batch(0).to(self.device))
        for network in self.networks.values():
            network.train()
        sums: dict[str, torch.Tensor] = {}
        window = 0
        started = time.perf_counter()
        batches = source.batches(first, self.total)
        try:
            for iteration, batch in batches:
                batch = batch.to(self.device, non_blocking=True)
                lr = self.optimizers[self.stage.updates[0].name].param_groups[0]["lr"]
                for update in self.stage.updates:
                    for name, value in self._step(update, batch).items():
                        sums[name] = sums[name] + value if name in sums else value
                window += 1
                done = iteration + 1
                elapsed = self.seconds_before + time.perf_counter() - started
                logged = None
                if done % self.settings.log_every == 0 or done == self.total:
                    logged = self._log(csv, board, done, lr, elapsed, sums, window)
                    sums, window = {}, 0
                if done % self.settings.checkpoint_every == 0 or done == self.total:
                    result.checkpoint = self._checkpoint(done, elapsed)
                if samples and (done % self.settings.sample_every == 0 or done == self.total):
                    write_samples(
                        self.run_dir.samples(self.stage.name),
                        done,
                        self.stage.name,
                        self.networks,
                        samples,
                        self.bands,
                        self.autocast,
                        self.input_bands,
                    )
                if observer is not None:
                    observer.iteration_done(self.stage.name, done, logged)
                result.iterations = done
        finally:
            close = getattr(batches, "close", None)
            if close is not None:  # stop the loader's prefetching threads now, also after an error
                close()
            if board is not None:
                board.close()
        result.seconds = time.perf_counter() - started
        result.losses = dict(self.last_losses)
        return result

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.autocast is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast)

    def _step(self, update: Update, batch: TrainingBatch) -> dict[str, torch.Tensor]:
        """One optimizer step of ``update``; returns its detached loss terms and gradient norm."""
        params = self.owned[update.name]
        optimizer = self.optimizers[update.name]
        optimizer.zero_grad(set_to_none=True)
        with self._autocast():
            terms = update.loss(self.runnable, batch)
        torch.autograd.backward(terms["loss"], inputs=params)
        average_gradients(params, self.context.world_size)
        norm = torch.nn.utils.clip_grad_norm_(params, self.settings.grad_clip_norm)
        optimizer.step()
        self.schedulers[update.name].step()
        values = {f"{update.name}/{name}": value.detach().float() for name, value in terms.items()}
        values[f"{update.name}/grad_norm"] = norm.detach().float()
        return values

    def _global_step(self, done: int) -> int:
        return self.index * self.total + done

    def _log(
        self,
        csv: LossCsv | None,
        board: TensorBoardLog | None,
        done: int,
        lr: float,
        seconds: float,
        sums: dict[str, torch.Tensor],
        window: int,
    ) -> dict[str, float]:
        names = list(sums)
        means = self.context.mean(torch.stack([sums[name] for name in names]) / window).tolist()
        values = dict(zip(names, means, strict=True))
        bad = [name for name, value in values.items() if not math.isfinite(value) and name.endswith("/loss")]
        if bad:
            raise TrainingError(
                f"{self.stage.name}: {', '.join(bad)} became non-finite by iteration {done}; lower --lr or"
                " check the input data, then resume from the last checkpoint"
            )
        self.last_losses = values
        if csv is not None:
            fixed = {"stage": self.stage.name, "iteration": done, "lr": lr, "seconds": round(seconds, 3)}
            csv.append({**fixed, **values})
        if board is not None:
            board.write(self.stage.name, self._global_step(done), {"lr": lr, **values})
        return values

    def _checkpoint(self, done: int, seconds: float) -> Path | None:
        rng = self.context.gather_objects(capture_rng_state())
        if not self.context.is_main:
            return None
        path = self.run_dir.checkpoint(self.stage.name, done)
        state = {
            "format": FORMAT,
            "galtk_version": __version__,
            **self._identity(),
            "width": self.settings.width,
            "iteration": done,
            "stage_iterations": self.total,
            "seconds": seconds,
            "settings": settings_to_dict(self.settings),
            "world_size": self.context.world_size,
            "frozen": list(self.stage.frozen),
            "networks": {role: net.state_dict() for role, net in self.networks.items()},
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "schedulers": {name: sched.state_dict() for name, sched in self.schedulers.items()},
            "rng": rng,
            "losses": dict(self.last_losses),
        }
        save_checkpoint(path, state)
        prune_checkpoints(path.parent, self.settings.keep_checkpoints)
        return path
