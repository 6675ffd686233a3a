"""Questions and datasets: the ``Question`` type, vendored benchmarks, file loaders and the study sampler."""

from calibench.data.loaders import DatasetError, load_dataset, load_file
from calibench.data.question import Question
from calibench.data.registry import DATASETS, DatasetSpec
from calibench.data.sampler import Manifest, StudySample, sample_study

__all__ = [
    "DATASETS",
    "DatasetError",
    "DatasetSpec",
    "Manifest",
    "Question",
    "StudySample",
    "load_dataset",
    "load_file",
    "sample_study",
]
