"""Load and validate ``params.yaml`` into frozen, typed objects.

Every stage calls :func:`load_params` before doing any work, so a bad value
stops the pipeline with one line naming the key, the value and what is
allowed (see :class:`ParamsError`), never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bnlab.errors import ParamsError
from bnlab.files import write_text

# Each variant of the study is a BatchNormalization placement; the model
# builder turns the placement into layers (see bnlab.model.plan).
Placement = Literal["none", "after", "before", "input"]
VARIANT_PLACEMENTS: dict[str, Placement] = {
    "baseline": "none",
    "bn_after": "after",
    "bn_before": "before",
    "bn_input": "input",
}
VariantName = Literal["baseline", "bn_after", "bn_before", "bn_input"]
# The tutorial's CNN and LSTM fragments on scikit-learn's digits, each with the
# placements its layer plan has (bnlab.model.network_plans). networks/dvc.yaml
# trains the pairs that `networks.variants` lists, one stage each.
DigitsNetwork = Literal["cnn", "lstm"]
DIGITS_VARIANTS: dict[str, tuple[VariantName, ...]] = {
    "cnn": ("baseline", "bn_after", "bn_before"),
    "lstm": ("baseline", "bn_after"),
}
NetworkVariantName = Literal[
    "cnn_baseline", "cnn_bn_after", "cnn_bn_before", "lstm_baseline", "lstm_bn_after"
]
DIGITS_ROWS = 1797  # load_digits: 8x8 images of the digits 0-9
# An extension's name is a DVC stage name (train@<name>) and a file name.
EXTENSION_NAME = r"^[a-z][a-z0-9_]*$"
# The experiment's name is also a registered model's, which a models:/ URI, a
# file name and bnlab's quoted run filters must carry as they are.
MLFLOW_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
# What a value that misses a pattern must be, in the words of the one-line refusal.
PATTERN_MEANING = {
    EXTENSION_NAME: "lower-case letters, digits and '_', starting with a letter",
    MLFLOW_NAME: (
        "1-100 letters, digits, '.', '_' and '-', starting with a letter or digit "
        "(it names a registered model and is quoted in run searches)"
    ),
}
# The most seeds a variant trains. Its seeds train at once, so memory grows
# with them: at 1,000 the train stage peaks near the study's 1 GB budget. Each
# is also an MLflow child run, which the worker creates, logs every epoch into
# and, on an interrupt, ends within seconds (docs/performance.md: the figures).
MAX_SEEDS = 1000
# A bound's refusal for these keys (the last two parts of the key) says why.
BOUND_MEANING = {
    ("train", "seeds"): (
        f"must be 1 to {MAX_SEEDS} (each seed is an MLflow run that training logs every epoch into)"
    ),
    # At 1 the moving mean and variance keep their initial 0 and 1 for good.
    ("bn", "momentum"): (
        "must be at least 0 and below 1 (at 1 the moving mean and variance never "
        "update, and inference uses their initial values)"
    ),
}
# Sizes past which a run no longer fits this study's memory and time budget
# (1 GB, minutes): each is far beyond the tutorial's.
MAX_SAMPLES = 1_000_000
MAX_UNITS = 4096
MAX_EPOCHS = 100_000
EXTENSIONS_PIPELINE = "extensions/dvc.yaml"  # their stages; dvc.yaml holds the study's
NETWORKS_PIPELINE = "networks/dvc.yaml"  # the CNN's and LSTM's data and training


class _Section(BaseModel):
    # strict: "0.5" is not a float, 1 is not a bool; extra: a typo is an error;
    # YAML's .nan and .inf are floats too, and no param of the study takes them.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class DataParams(_Section):
    n_samples: int = Field(ge=2, le=MAX_SAMPLES, description="points make_circles draws")
    noise: float = Field(ge=0, description="std of Gaussian noise added to the points")
    random_state: int = Field(ge=0, description="make_circles seed")


class SplitParams(_Section):
    n_train: int = Field(gt=0, description="first n_train rows train, the rest test")


class ModelParams(_Section):
    hidden_units: int = Field(ge=1, le=MAX_UNITS, description="width of the one hidden Dense layer")


class TrainParams(_Section):
    epochs: int = Field(ge=1, le=MAX_EPOCHS)
    batch_size: int = Field(ge=1, le=MAX_SAMPLES)
    learning_rate: float = Field(gt=0, description="SGD learning rate")
    momentum: float = Field(ge=0, lt=1, description="SGD momentum")
    seeds: int = Field(ge=1, le=MAX_SEEDS, description="independent runs per variant")
    base_seed: int = Field(ge=0, description="seed of run i is base_seed + i")

    def seed_list(self) -> list[int]:
        return [self.base_seed + i for i in range(self.seeds)]


class BNParams(_Section):
    momentum: float = Field(ge=0, lt=1, description="moving-average momentum")
    epsilon: float = Field(gt=0)
    center: bool = Field(description="learn beta")
    scale: bool = Field(description="learn gamma")


class BNChanges(_Section):
    """Some of ``bn``'s keys: what an extension changes in the study's BN."""

    momentum: float | None = Field(default=None, ge=0, lt=1)
    epsilon: float | None = Field(default=None, gt=0)
    center: bool | None = None
    scale: bool | None = None


class Extension(_Section):
    """One of the tutorial's extensions: a variant trained with some of ``bn``
    changed, set against the study's variant ``against`` (default: its own)."""

    variant: VariantName
    bn: BNChanges = BNChanges()
    against: VariantName | None = None

    @property
    def reference(self) -> VariantName:
        return self.against or self.variant

    @property
    def changes(self) -> dict[str, object]:
        return self.bn.model_dump(exclude_none=True)


class NetworkParams(_Section):
    """A digits network: its width, how long it trains, when it has learned."""

    units: int = Field(
        ge=1, le=MAX_UNITS, description="filters of each Conv2D, or the LSTM's units"
    )
    epochs: int = Field(ge=1, le=MAX_EPOCHS, description="its training's, instead of train.epochs")
    threshold: float = Field(gt=0, le=1, description="test accuracy that counts as learned")


class NetworksParams(_Section):
    """The CNN and the LSTM on digits: read by networks/dvc.yaml only."""

    variants: tuple[NetworkVariantName, ...] = Field(min_length=1, strict=False)
    n_train: int = Field(
        gt=0, lt=DIGITS_ROWS, description="first n_train rows train, the rest test"
    )
    registered_model: str = Field(pattern=MLFLOW_NAME, description="<this>-cnn, <this>-lstm")
    cnn: NetworkParams
    lstm: NetworkParams

    def network(self, name: DigitsNetwork) -> NetworkParams:
        return getattr(self, name)

    def trained(self) -> list[DigitsNetwork]:
        """The networks with a variant in ``variants``, in DIGITS_VARIANTS' order."""
        return [n for n in DIGITS_VARIANTS if any(split_name(v)[0] == n for v in self.variants)]

    def variants_of(self, network: DigitsNetwork) -> list[VariantName]:
        """A network's variants that ``variants`` lists, in its plan's order."""
        return [v for v in DIGITS_VARIANTS[network] if network_variant(network, v) in self.variants]

    def registered(self, network: DigitsNetwork) -> str:
        return f"{self.registered_model}-{network}"


class MlflowParams(_Section):
    experiment: str = Field(pattern=MLFLOW_NAME)


class Params(_Section):
    data: DataParams
    split: SplitParams
    model: ModelParams
    train: TrainParams
    bn: BNParams
    variants: tuple[VariantName, ...] = Field(min_length=1, strict=False)  # YAML gives a list
    # Trained by extensions/dvc.yaml only: `dvc repro` leaves them out.
    extensions: dict[Annotated[str, Field(pattern=EXTENSION_NAME)], Extension]
    mlflow: MlflowParams
    # Trained by networks/dvc.yaml only: `dvc repro` leaves them out.
    networks: NetworksParams

    @model_validator(mode="after")
    def _split_inside_data(self) -> Params:
        if self.split.n_train >= self.data.n_samples:
            raise ValueError(
                f"split.n_train = {self.split.n_train}: must be between 0 and "
                f"data.n_samples ({self.data.n_samples}), exclusive"
            )
        if len(set(self.variants)) != len(self.variants):
            raise ValueError(f"variants = {list(self.variants)}: each variant may appear once")
        names = self.networks.variants
        if len(set(names)) != len(names):
            raise ValueError(f"networks.variants = {list(names)}: each may appear once")
        for network in self.networks.trained():
            if network_variant(network, "baseline") not in names:
                raise ValueError(
                    f"networks.variants = {list(names)}: {network}'s variants are set against "
                    f"its baseline: add {network}_baseline"
                )
        return self


class VariantConfig(_Section):
    """Everything that determines one variant's training, and nothing else.

    The configure stage writes one of these per variant, so the baseline's
    file (bn is None) stays byte-identical when only ``bn.*`` changes and DVC
    keeps its training cached.
    """

    variant: VariantName
    placement: Placement
    model: ModelParams
    train: TrainParams
    bn: BNParams | None
    # An extension's only (see write_config: a study variant's file leaves them out).
    extension: str | None = None
    against: VariantName | None = None

    @property
    def name(self) -> str:
        """What its runs and files are called: the extension's name, or the variant's."""
        return self.extension or self.variant

    @property
    def stage(self) -> str:
        """The DVC stage that trains it."""
        return training_stage(self.name, extension=self.extension is not None)


class NetworkConfig(_Section):
    """Everything that determines one digits network variant's training: its
    network's width, the study's train.* with the network's epochs, and bn.*
    for a BN placement only (as ``VariantConfig``)."""

    network: DigitsNetwork
    variant: VariantName
    placement: Placement
    units: int
    train: TrainParams
    bn: BNParams | None

    @property
    def name(self) -> str:
        """What its runs and files are called: ``cnn_bn_after``."""
        return network_variant(self.network, self.variant)

    @property
    def stage(self) -> str:
        return network_stage(self.name)


def network_variant(network: str, variant: str) -> str:
    return f"{network}_{variant}"


def split_name(name: str) -> tuple[DigitsNetwork, VariantName]:
    """``cnn_bn_after`` -> ("cnn", "bn_after")."""
    network, variant = name.split("_", 1)
    return network, variant  # type: ignore[return-value]


def network_stage(name: str) -> str:
    """DVC's name for the stage that trains a digits network's variant."""
    return f"{NETWORKS_PIPELINE}:train_network@{name}"


def network_config(params: Params, name: NetworkVariantName) -> NetworkConfig:
    network, variant = split_name(name)
    placement = VARIANT_PLACEMENTS[variant]
    settings = params.networks.network(network)
    return NetworkConfig(
        network=network,
        variant=variant,
        placement=placement,
        units=settings.units,
        train=params.train.model_copy(update={"epochs": settings.epochs}),
        bn=None if placement == "none" else params.bn,
    )


def load_network_config(path: str | Path) -> NetworkConfig:
    return _load_config(NetworkConfig, path)


def training_stage(name: str, extension: bool = False) -> str:
    """DVC's name for the stage that trains a study variant or an extension."""
    return f"{EXTENSIONS_PIPELINE}:train@{name}" if extension else f"train@{name}"


def write_config(config: VariantConfig | NetworkConfig, path: Path) -> None:
    # Without the fields left at their defaults, a study variant's file keeps
    # the bytes it had before extensions existed, and its training its cache.
    write_text(path, config.model_dump_json(indent=2, exclude_defaults=True) + "\n")


def write_configs(configs: list[VariantConfig] | list[NetworkConfig], out_dir: str | Path) -> None:
    """Each config as ``<out_dir>/<its name>.json``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for config in configs:
        write_config(config, out_dir / f"{config.name}.json")


def variant_config(params: Params, variant: VariantName) -> VariantConfig:
    placement = VARIANT_PLACEMENTS[variant]
    return VariantConfig(
        variant=variant,
        placement=placement,
        model=params.model,
        train=params.train,
        bn=None if placement == "none" else params.bn,
    )


def extension_config(params: Params, name: str) -> VariantConfig:
    """What an extension's training reads: its variant's, with its changes to ``bn``.

    Refused when the study does not train the variant it is set against, or
    when it changes a BN the variant does not have.
    """
    extension = params.extensions[name]
    key = f"extensions.{name}"
    if extension.reference not in params.variants:
        raise ParamsError(
            f"params.yaml: {key} is set against {extension.reference}, which variants "
            f"= {list(params.variants)} does not train: add it there, or change its 'against'"
        )
    config = variant_config(params, extension.variant)
    if config.bn is None:
        if extension.changes:
            raise ParamsError(
                f"params.yaml: {key}.bn = {extension.changes}: {extension.variant} has no "
                "BatchNormalization to change"
            )
    else:
        config = config.model_copy(update={"bn": config.bn.model_copy(update=extension.changes)})
    return config.model_copy(update={"extension": name, "against": extension.reference})


def load_variant_config(path: str | Path) -> VariantConfig:
    return _load_config(VariantConfig, path)


def _load_config(kind: type[_Section], path: str | Path):
    path = Path(path)
    try:
        return kind.model_validate_json(path.read_bytes(), strict=False)
    except OSError as exc:
        raise ParamsError(f"{path}: cannot be read ({exc.strerror})") from None
    except ValidationError as exc:
        raise ParamsError(f"{path}: {_describe(exc.errors()[0])}") from None


def parse_params(raw: object, source: str = "params.yaml") -> Params:
    """Validate an already-parsed YAML document; raise ParamsError on bad input."""
    if not isinstance(raw, dict):
        raise ParamsError(f"{source}: must be a mapping of sections, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise ParamsError(f"{source}: {_describe(exc.errors()[0])}") from None


def load_params(path: str | Path = "params.yaml") -> Params:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParamsError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ParamsError(f"{path}: not valid YAML{where}") from None
    return parse_params(raw, str(path))


def _describe(error: dict) -> str:
    """One pydantic error as 'key = value: what is allowed'."""
    key = ".".join(str(part) for part in error["loc"] if part != "[key]")
    if error["loc"][-1:] == ("[key]",):  # a bad name (of an extension), not a bad value
        return f"{key} = {_short_repr(error['input'])}: must be {PATTERN_MEANING[EXTENSION_NAME]}"
    if error["type"] == "missing":
        return f"{key}: missing (required)"
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    message = error["msg"]
    if error["type"] == "string_pattern_mismatch":
        message = "must be " + PATTERN_MEANING[error["ctx"]["pattern"]]
    if error["loc"][-2:] in BOUND_MEANING and error["type"].startswith(("less", "greater")):
        message = BOUND_MEANING[error["loc"][-2:]]
    if error["type"] == "value_error":  # our own cross-field checks
        return message.removeprefix("Value error, ")
    if error["type"] == "literal_error" and key.startswith("variants"):
        message = "Input should be one of " + ", ".join(VARIANT_PLACEMENTS)
    return f"{key} = {_short_repr(error['input'])}: {message}"


def _short_repr(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
