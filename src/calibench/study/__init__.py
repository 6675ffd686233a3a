"""Studies: configuration, the runner, the response store, results.json and reading runs back."""

from calibench.study.config import StudyConfig, load_config, parse_config
from calibench.study.run import Run, load_run
from calibench.study.runner import run_study

__all__ = ["Run", "StudyConfig", "load_config", "load_run", "parse_config", "run_study"]
