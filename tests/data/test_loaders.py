import gzip
import json

import pytest

from calibench.data import DatasetError, Question, load_dataset, load_file


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


GOOD = {"id": "q1", "question": "2+2?", "choices": ["3", "4", "5"], "answer": "B", "subject": "math"}


def test_jsonl_round_trip(tmp_path):
    path = write_jsonl(tmp_path / "mine.jsonl", [GOOD, {**GOOD, "id": "q2", "answer": "c", "subject": None}])
    qs = load_file(path)
    assert qs[0] == Question("q1", "mine", "math", "general", "2+2?", ("3", "4", "5"), "B")
    assert qs[1].answer == "C" and qs[1].subject == "general"
    assert load_dataset(str(path)) == qs


def test_jsonl_gz_and_default_ids(tmp_path):
    rows = [{k: v for k, v in GOOD.items() if k != "id"}] * 2
    path = tmp_path / "zipped.jsonl.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    qs = load_file(path)
    assert [q.id for q in qs] == ["0", "1"] and qs[0].dataset == "zipped"


def test_csv_with_letter_columns_and_ragged_options(tmp_path):
    path = tmp_path / "quiz.csv"
    path.write_text(
        "id,question,A,B,C,D,answer,subject,category\n"
        'a,"Capital of France, please?",Paris,Rome,,,A,geo,social\n'
        "b,Pick three,1,2,3,,c,math,STEM\n",
        encoding="utf-8",
    )
    qs = load_file(path)
    assert qs[0].question == "Capital of France, please?" and qs[0].choices == ("Paris", "Rome")
    assert qs[1].choices == ("1", "2", "3") and qs[1].answer == "C" and qs[1].category == "STEM"


def test_csv_with_choices_column(tmp_path):
    path = tmp_path / "quiz.csv"
    path.write_text('question,choices,answer\nWhich?,"[""x"", ""y""]",B\n', encoding="utf-8")
    (q,) = load_file(path)
    assert q.choices == ("x", "y") and q.answer == "B" and q.id == "0"


def test_ten_options_allowed(tmp_path):
    path = write_jsonl(tmp_path / "ten.jsonl", [{**GOOD, "choices": [str(i) for i in range(10)], "answer": "J"}])
    assert load_file(path)[0].letters[-1] == "J"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({**GOOD, "answer": "E"}, r"line 1, field 'answer': 'E' is not one of the option letters A, B, C"),
        ({**GOOD, "answer": "AB"}, r"field 'answer': 'AB' is not one of the option letters"),  # found by scripts/fuzz.py
        ({**GOOD, "answer": "BC"}, r"field 'answer': 'BC' is not one of the option letters"),
        ({**GOOD, "choices": ["only"]}, r"field 'choices': needs 2 to 10 options, got 1"),
        ({**GOOD, "choices": [str(i) for i in range(11)]}, r"needs 2 to 10 options, got 11"),
        ({**GOOD, "choices": "A or B"}, r"field 'choices': expected a list of option texts, got str"),
        ({**GOOD, "choices": ["a", None]}, r"field 'choices': option B is NoneType, expected text"),
        ({k: v for k, v in GOOD.items() if k != "question"}, r"field 'question': missing"),
        ({k: v for k, v in GOOD.items() if k != "answer"}, r"field 'answer': missing"),
        ({k: v for k, v in GOOD.items() if k != "choices"}, r"field 'choices': missing"),
        ({**GOOD, "question": ["x"]}, r"field 'question': expected text, got list"),
    ],
)
def test_bad_rows_name_file_line_and_field(tmp_path, row, message):
    path = write_jsonl(tmp_path / "bad.jsonl", [row])
    with pytest.raises(DatasetError, match=message) as err:
        load_file(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_bad_json_line_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad.jsonl, line 3: not valid JSON"):
        load_file(path)


def test_json_that_is_not_an_object(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"line 1: expected a JSON object, got list"):
        load_file(path)


def test_duplicate_ids(tmp_path):
    path = write_jsonl(tmp_path / "dup.jsonl", [GOOD, {**GOOD, "question": "other"}])
    with pytest.raises(DatasetError, match=r"line 2, field 'id': duplicate id 'q1' \(first on line 1\)"):
        load_file(path)


def test_non_utf8(tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"question": "caf\xe9"}\n')
    with pytest.raises(DatasetError, match=r"latin.jsonl, line 2: not valid UTF-8"):
        load_file(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="holds no questions"):
        load_file(path)


def test_csv_errors(tmp_path):
    gap = tmp_path / "gap.csv"
    gap.write_text("question,A,B,C,answer\nq,x,,z,A\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"gap.csv, line 2, field 'B': empty option"):
        load_file(gap)
    extra = tmp_path / "extra.csv"
    extra.write_text("question,A,B,answer\nq,x,y,A,surplus\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"extra.csv, line 2: more cells than the header"):
        load_file(extra)
    skipped = tmp_path / "skip.csv"
    skipped.write_text("question,A,C,answer\nq,x,y,A\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="without gaps"):
        load_file(skipped)


def test_unknown_name_and_unsupported_type(tmp_path):
    with pytest.raises(DatasetError, match=r"unknown dataset 'nope'.*mmlu"):
        load_dataset("nope")
    other = tmp_path / "q.txt"
    other.write_text("x")
    with pytest.raises(DatasetError, match="unsupported file type"):
        load_dataset(other)
    with pytest.raises(DatasetError, match="not a regular file"):
        load_dataset(tmp_path)


def test_question_guards_its_invariants():
    with pytest.raises(ValueError, match="needs 2 to 10 choices"):
        Question("x", "d", "s", "c", "q", ("a",), "A")
    with pytest.raises(ValueError, match="answer 'C' is not one of A, B"):
        Question("x", "d", "s", "c", "q", ("a", "b"), "C")


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SEED_CSV = b'id,question,A,B,C,D,answer\nq1,"What, really?",x,y,z,w,B\n'
SEED_JSONL = json.dumps(GOOD).encode() + b"\n"


@given(
    st.one_of(st.binary(max_size=400), st.binary(max_size=60).map(lambda b: SEED_CSV + b), st.binary(max_size=60).map(lambda b: SEED_JSONL + b)),
    st.sampled_from([".jsonl", ".csv"]),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_loaders_return_valid_questions_or_one_clear_error(tmp_path, data, suffix):
    # a short run of what scripts/fuzz.py does for hours: anything but DatasetError is a bug
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        questions = load_file(path)
    except DatasetError as exc:
        assert "\n" not in str(exc)
        return
    assert all(q.answer in q.letters for q in questions) and len({q.id for q in questions}) == len(questions)
