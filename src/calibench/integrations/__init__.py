"""Other tools' evaluations as calibench runs: lm-evaluation-harness's sample logs (:mod:`.lm_eval`),
written as a normal run directory (:mod:`.imported`)."""

from calibench.integrations.imported import Imported, ImportedAnswer, write_imported
from calibench.integrations.lm_eval import read_lm_eval

__all__ = ["Imported", "ImportedAnswer", "read_lm_eval", "write_imported"]
