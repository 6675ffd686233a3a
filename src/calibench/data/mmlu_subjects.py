"""MMLU's official subject -> subcategory -> category maps and the default study subjects.

The maps are the MMLU authors' own (``categories.py`` in the original repository).
lm-evaluation-harness differs on one subject only: it files ``anatomy`` under STEM, where
the official map has it under "other"; calibench follows the official map.
"""

from __future__ import annotations

SUBCATEGORY: dict[str, str] = {
    "abstract_algebra": "math",
    "anatomy": "health",
    "astronomy": "physics",
    "business_ethics": "business",
    "clinical_knowledge": "health",
    "college_biology": "biology",
    "college_chemistry": "chemistry",
    "college_computer_science": "computer science",
    "college_mathematics": "math",
    "college_medicine": "health",
    "college_physics": "physics",
    "computer_security": "computer science",
    "conceptual_physics": "physics",
    "econometrics": "economics",
    "electrical_engineering": "engineering",
    "elementary_mathematics": "math",
    "formal_logic": "philosophy",
    "global_facts": "other",
    "high_school_biology": "biology",
    "high_school_chemistry": "chemistry",
    "high_school_computer_science": "computer science",
    "high_school_european_history": "history",
    "high_school_geography": "geography",
    "high_school_government_and_politics": "politics",
    "high_school_macroeconomics": "economics",
    "high_school_mathematics": "math",
    "high_school_microeconomics": "economics",
    "high_school_physics": "physics",
    "high_school_psychology": "psychology",
    "high_school_statistics": "math",
    "high_school_us_history": "history",
    "high_school_world_history": "history",
    "human_aging": "health",
    "human_sexuality": "culture",
    "international_law": "law",
    "jurisprudence": "law",
    "logical_fallacies": "philosophy",
    "machine_learning": "computer science",
    "management": "business",
    "marketing": "business",
    "medical_genetics": "health",
    "miscellaneous": "other",
    "moral_disputes": "philosophy",
    "moral_scenarios": "philosophy",
    "nutrition": "health",
    "philosophy": "philosophy",
    "prehistory": "history",
    "professional_accounting": "other",
    "professional_law": "law",
    "professional_medicine": "health",
    "professional_psychology": "psychology",
    "public_relations": "politics",
    "security_studies": "politics",
    "sociology": "culture",
    "us_foreign_policy": "politics",
    "virology": "health",
    "world_religions": "philosophy",
}

CATEGORY: dict[str, str] = {
    "physics": "STEM",
    "chemistry": "STEM",
    "biology": "STEM",
    "computer science": "STEM",
    "math": "STEM",
    "engineering": "STEM",
    "history": "humanities",
    "philosophy": "humanities",
    "law": "humanities",
    "politics": "social sciences",
    "culture": "social sciences",
    "economics": "social sciences",
    "geography": "social sciences",
    "psychology": "social sciences",
    "other": "other",
    "business": "other",
    "health": "other",
}

# The default study: the 4 official categories x 4 subjects, spanning easy to hard.
# ``miscellaneous`` stands in for ``global_facts`` and virology is left out: both are
# among MMLU's noisiest subjects for labels, which a 300-question sample cannot absorb.
# Within a category the first three subjects get 19 questions and the last 18.
DEFAULT_STUDY_SUBJECTS: tuple[str, ...] = (
    "abstract_algebra",
    "college_physics",
    "computer_security",
    "high_school_biology",
    "formal_logic",
    "high_school_us_history",
    "philosophy",
    "professional_law",
    "econometrics",
    "high_school_geography",
    "professional_psychology",
    "us_foreign_policy",
    "clinical_knowledge",
    "marketing",
    "miscellaneous",
    "professional_medicine",
)


def category_of(subject: str) -> str:
    """The official MMLU category (STEM, humanities, social sciences, other) of a subject."""
    return CATEGORY[SUBCATEGORY[subject]]
