"""Other tools' evaluations as calibench runs: lm-evaluation-harness's sample logs (:mod:`.lm_eval`)
and inspect_ai's eval logs (:mod:`.inspect_log`), written as a normal run directory
(:mod:`.imported`); and calibench's task inside inspect_ai (:mod:`.inspect`, the ``inspect`` extra)."""

from calibench.integrations.imported import Imported, ImportedAnswer, write_imported
from calibench.integrations.inspect_log import read_inspect
from calibench.integrations.lm_eval import read_lm_eval

__all__ = ["Imported", "ImportedAnswer", "read_inspect", "read_lm_eval", "write_imported"]
