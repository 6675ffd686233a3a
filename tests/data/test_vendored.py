import collections
import gzip
import hashlib

import pytest

from calibench.data import DATASETS, DatasetError, load_dataset
from calibench.data import loaders
from calibench.data.loaders import vendored_path
from calibench.data.mmlu_subjects import CATEGORY, SUBCATEGORY

# Official MMLU test counts per subject (Hendrycks et al. release), 14,042 in all.
MMLU_COUNTS = {
    "abstract_algebra": 100, "anatomy": 135, "astronomy": 152, "business_ethics": 100,
    "clinical_knowledge": 265, "college_biology": 144, "college_chemistry": 100,
    "college_computer_science": 100, "college_mathematics": 100, "college_medicine": 173,
    "college_physics": 102, "computer_security": 100, "conceptual_physics": 235,
    "econometrics": 114, "electrical_engineering": 145, "elementary_mathematics": 378,
    "formal_logic": 126, "global_facts": 100, "high_school_biology": 310,
    "high_school_chemistry": 203, "high_school_computer_science": 100,
    "high_school_european_history": 165, "high_school_geography": 198,
    "high_school_government_and_politics": 193, "high_school_macroeconomics": 390,
    "high_school_mathematics": 270, "high_school_microeconomics": 238,
    "high_school_physics": 151, "high_school_psychology": 545, "high_school_statistics": 216,
    "high_school_us_history": 204, "high_school_world_history": 237, "human_aging": 223,
    "human_sexuality": 131, "international_law": 121, "jurisprudence": 108,
    "logical_fallacies": 163, "machine_learning": 112, "management": 103, "marketing": 234,
    "medical_genetics": 100, "miscellaneous": 783, "moral_disputes": 346,
    "moral_scenarios": 895, "nutrition": 306, "philosophy": 311, "prehistory": 324,
    "professional_accounting": 282, "professional_law": 1534, "professional_medicine": 272,
    "professional_psychology": 612, "public_relations": 110, "security_studies": 245,
    "sociology": 201, "us_foreign_policy": 100, "virology": 166, "world_religions": 171,
}


@pytest.mark.parametrize("name", list(DATASETS))
def test_vendored_file_matches_pinned_hash_and_count(name):
    spec = DATASETS[name]
    raw = gzip.decompress(vendored_path(spec).read_bytes())
    assert hashlib.sha256(raw).hexdigest() == spec.sha256
    questions = load_dataset(name)
    assert len(questions) == spec.count
    assert len({q.id for q in questions}) == spec.count
    assert all(q.dataset == name for q in questions)
    assert (vendored_path(spec).parent / spec.licence_file).is_file()


def test_mmlu_canonical_hash_is_the_published_one():
    assert DATASETS["mmlu"].sha256 == "c1bc429118b401a178ce95ab844d2c377353b71a2e865cd33d17bde1d2519d97"


def test_mmlu_per_subject_counts_match_the_official_split():
    counts = collections.Counter(q.subject for q in load_dataset("mmlu"))
    assert counts == MMLU_COUNTS
    assert sum(counts.values()) == 14042


def test_mmlu_first_abstract_algebra_question():
    q = load_dataset("mmlu")[0]
    assert q.id == "abstract_algebra/0"
    assert q.question == "Find the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q."
    assert q.choices == ("0", "4", "2", "6")
    assert q.answer == "B" and q.choices[q.answer_index] == "4"
    assert q.category == "STEM"


def test_mmlu_spot_checks_and_answer_distribution():
    by_id = {q.id: q for q in load_dataset("mmlu")}
    assert by_id["abstract_algebra/1"].answer == "C"
    assert by_id["high_school_computer_science/0"].question == "Let x = 1. What is x << 3 in Python 3?"
    assert by_id["high_school_computer_science/0"].answer == "C"
    assert by_id["machine_learning/0"].answer == "D"
    letters = collections.Counter(q.answer for q in by_id.values())
    assert letters == {"A": 3222, "B": 3462, "C": 3582, "D": 3776}


def test_mmlu_categories_follow_the_official_map():
    questions = load_dataset("mmlu")
    assert all(q.category == CATEGORY[SUBCATEGORY[q.subject]] for q in questions)
    per_category = collections.Counter(q.category for q in questions)
    assert per_category == {"STEM": 3018, "humanities": 4705, "social sciences": 3077, "other": 3242}


def test_extra_benchmarks_first_items_and_answer_mix():
    arc = load_dataset("arc-challenge")
    assert arc[0].id == "Mercury_7175875" and arc[0].answer == "C"
    assert collections.Counter(q.answer for q in arc) == {"A": 266, "B": 311, "C": 310, "D": 285}
    csqa = load_dataset("commonsenseqa")
    assert csqa[0].choices[0] == "bank" and csqa[0].answer == "A"
    assert all(len(q.choices) == 5 for q in csqa)
    medqa = load_dataset("medqa")
    assert medqa[0].choices[medqa[0].answer_index] == "Tell the attending that he cannot fail to disclose this mistake"
    assert {q.subject for q in medqa} == {"usmle_step1", "usmle_step2_3"}


def test_names_are_matched_loosely():
    assert len(load_dataset("ARC_Challenge")) == 1172


def test_damaged_vendored_file_is_refused(tmp_path, monkeypatch):
    spec = DATASETS["commonsenseqa"]
    raw = gzip.decompress(vendored_path(spec).read_bytes()).replace(b"bank", b"bonk", 1)
    damaged = tmp_path / spec.filename
    damaged.write_bytes(gzip.compress(raw))
    monkeypatch.setattr(loaders, "vendored_path", lambda s: damaged)
    loaders._load_vendored.cache_clear()
    try:
        with pytest.raises(DatasetError, match="commonsenseqa is damaged"):
            load_dataset("commonsenseqa")
    finally:
        loaders._load_vendored.cache_clear()
