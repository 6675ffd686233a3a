"""calibench inside inspect_ai: the default study's questions, a calibench protocol's prompt, calibench's reader.

``inspect eval calibench/mmlu_confidence --model openai-api/<service>/<model>`` asks the
default study's 300 questions (or ``-T limit=N`` of them) with a calibench protocol that asks
for answer and confidence in one reply (``-T protocol=verbalized``, the reference study's
format, or one of its templates), at temperature 0 with the top 20 log-probabilities of each
generated token, and scores each reply with calibench's own reader: the score's value is 1 for
a right letter, its ``answer`` the letter read, its metadata the confidence, the reading's
status and rule. ``calibench import inspect LOG`` turns the log into
a calibench run. Needs ``pip install 'calibench[inspect]'``.
"""

from __future__ import annotations

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, GenerateConfig
from inspect_ai.scorer import Score, Target, accuracy, scorer, stderr
from inspect_ai.solver import TaskState, generate

from calibench.data import load_dataset, sample_study
from calibench.data.question import Question
from calibench.elicit.protocols import get_protocol
from calibench.integrations.inspect_log import SCORER

TOP_LOGPROBS = 20  # so that the answer letter's probability can be read from the log too
# inspect's stop reasons in the OpenAI terms calibench's readers use
FINISH = {"stop": "stop", "max_tokens": "length", "model_length": "length"}


def _one_request(protocol: str):
    """The protocol, if it asks for answer and confidence in one free-text reply (what inspect's
    generate() sends without a constraint)."""
    p = get_protocol(protocol)
    if not p.self_answering or p.builds_on or p.conclusion or p.reads != "text":
        raise ValueError(f"protocol {protocol!r}: the inspect task asks protocols of one free-text reply (verbalized and its templates)")
    return p


def _question(state_metadata: dict, target: str, sample_id) -> Question:
    """The sample as the calibench Question its reader needs (options and subject from the sample's metadata)."""
    return Question(id=str(sample_id), dataset="mmlu", subject=state_metadata["subject"], category=state_metadata["category"],
                    question=state_metadata["question"], choices=tuple(state_metadata["choices"]), answer=target)


@scorer(metrics=[accuracy(), stderr()], name=SCORER)
def calibench_confidence(protocol: str = "verbalized"):
    """Reads a reply with calibench's reader for ``protocol``: value 1 for a right letter, the
    letter as the answer, the stated confidence (0 to 1) and the reading's status in the metadata."""
    p = _one_request(protocol)

    async def score(state: TaskState, target: Target) -> Score:
        question = _question(state.metadata, target.text, state.sample_id)
        choice = state.output.choices[0] if state.output and state.output.choices else None
        text = state.output.completion if state.output else None
        response = {"choices": [{"message": {"content": text}, "finish_reason": FINISH.get(choice.stop_reason if choice else "", None)}]}
        parsed = p.read(response, question).parsed
        return Score(value=1.0 if parsed.letter == question.answer else 0.0, answer=parsed.letter, explanation=text,
                     metadata={"protocol": protocol, "confidence": parsed.confidence, "status": parsed.status, "rule": parsed.rule,
                               "question_id": question.id})

    return score


@task
def mmlu_confidence(protocol: str = "verbalized", limit: int | None = None) -> Task:
    """The default study's questions (seed 0, 300 over 16 subjects), asked with ``protocol``'s prompt at temperature 0."""
    p = _one_request(protocol)
    questions = sample_study(load_dataset("mmlu"), seed=0).questions[:limit]
    roles = {"system": ChatMessageSystem, "user": ChatMessageUser, "assistant": ChatMessageAssistant}  # assistant: few-shot replies
    samples = [Sample(input=[roles[m["role"]](content=m["content"]) for m in p.messages(q, backend="openai")], target=q.answer, id=q.id,
                      metadata={"subject": q.subject, "category": q.category, "question": q.question, "choices": list(q.choices)})
               for q in questions]
    return Task(dataset=MemoryDataset(samples), solver=generate(), scorer=calibench_confidence(protocol),
                config=GenerateConfig(temperature=0.0, max_tokens=p.max_tokens, seed=0, logprobs=True, top_logprobs=TOP_LOGPROBS))
