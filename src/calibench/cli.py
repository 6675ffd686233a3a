"""The ``calibench`` command line.

Every command reports bad input as one line on stderr and exits with code 2; click's own
usage errors already do the same.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from calibench import __version__
from calibench.atomic import write_atomic
from calibench.data import DATASETS, load_dataset, sample_study
from calibench.data.sampler import DEFAULT_N_TOTAL, STRATA
from calibench.errors import CalibenchError
from calibench.models.ladder import LADDER, is_installed, parameter_label


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="calibench")
def cli() -> None:
    """calibench: are LLMs calibrated when they sound sure?

    Asks a model multiple-choice questions, collects each answer with a stated 0-100%
    confidence, and measures how well stated confidence matches accuracy.
    """


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def datasets(as_json: bool) -> None:
    """List the vendored datasets with counts, subjects and licences."""
    rows = []
    for spec in DATASETS.values():
        questions = load_dataset(spec.name)
        rows.append(
            {
                "name": spec.name,
                "title": spec.title,
                "split": spec.split,
                "questions": len(questions),
                "subjects": len({q.subject for q in questions}),
                "choices": spec.n_choices,
                "licence": spec.licence,
                "source": spec.source,
                "citation": spec.citation,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    columns = ("name", "split", "questions", "subjects", "choices", "licence")
    table = Table(title="Vendored datasets", caption="Any JSONL or CSV file also works as a dataset; --json adds sources and citations.")
    for column in columns:
        table.add_column(column, justify="right" if column in ("questions", "subjects") else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(str(row[c]) for c in columns))
    Console().print(table)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def models(as_json: bool) -> None:
    """List the offline model ladder: installed or not, size, licence and how to install."""
    rows = [
        {
            "name": m.name,
            "title": m.title,
            "parameters": m.parameters,
            "size_mb": round(m.size / 1e6),
            "quantization": m.quantization,
            "installed": is_installed(m),
            "licence": m.licence,
            "provenance": m.provenance,
            "sha256": m.sha256,
            "install": m.install_command,
        }
        for m in LADDER.values()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="Offline model ladder", caption="Any local .gguf file also works as a model.")
    for column in ("name", "params", "size", "installed", "licence"):
        table.add_column(column, justify="right" if column in ("params", "size") else "left")
    for row in rows:
        table.add_row(row["name"], parameter_label(row["parameters"]), f"{row['size_mb']} MB", "yes" if row["installed"] else "no", row["licence"])
    console = Console()
    console.print(table)
    for row in rows:
        if not row["installed"]:
            console.print(f"To install {row['name']}: {row['install']}", soft_wrap=True, highlight=False)


@cli.command()
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE:NAME", help="Also list a protocol of your own (module or file.py). Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def protocols(plugins, as_json: bool) -> None:
    """List the elicitation protocols: what each asks, what it costs per question, where it comes from."""
    from calibench.data import load_dataset, sample_study
    from calibench.elicit.protocols import BUILT_IN, TEMPLATES, available, load_protocol
    from calibench.study.dry_run import protocol_costs

    for spec in plugins:
        load_protocol(spec)
    # costs on the first 20 questions of the default study sample, on a llama.cpp server
    questions = sample_study(load_dataset("mmlu"), seed=0).questions[:COST_QUESTIONS]
    rows = []
    for cost in protocol_costs(questions):
        p = available()[cost.name]
        rows.append({"name": p.name, "version": p.version, "summary": p.summary, "cites": p.cites, "reads": p.reads,
                     "builds_on": p.follows or (p.request if not p.sends else None), "requests_per_question": cost.requests,
                     "prompt_tokens_per_question": cost.prompt_tokens, "max_generated_tokens_per_question": cost.max_generated_tokens,
                     "templates": list(p.templates), "built_in": p.name in BUILT_IN, "sha256": p.sha256})
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    # the costs as a table, what each asks as paragraphs below it: both read in 80 columns
    table = Table(title="Elicitation protocols",
                  caption=f"Per question, run alone, on the first {COST_QUESTIONS} questions of the default sample (llama.cpp server); "
                          "prompt tokens estimated as bytes / 4; 'answer' is the answer read.")
    for column in ("name", "builds on", "requests", "prompt tok", "max gen tok"):
        table.add_column(column, justify="right" if "tok" in column else "left", no_wrap=column != "requests")
    for row in rows:
        requests = " + ".join(f"{n} {k}" for k, n in row["requests_per_question"].items())
        table.add_row(row["name"], row["builds_on"] or "-", requests, f"{row['prompt_tokens_per_question']:.0f}",
                      str(row["max_generated_tokens_per_question"]))
    console = Console()
    console.print(table)
    for row in rows:
        what = row["summary"] + (f" [{row['cites']}]" if row["cites"] else "") + ("" if row["built_in"] else " (plugin)")
        console.print(Text.assemble((row["name"], "bold"), ": ", what))
    templated = [row["name"] for row in rows if len(row["templates"]) > 1]
    if templated:
        console.print(f"Prompt templates ([elicit] templates, or a protocol named NAME@TEMPLATE): {', '.join(templated)} "
                      f"come in {', '.join(TEMPLATES)}; the others are asked plain.", markup=False)


COST_QUESTIONS = 20


def _count_option(option: str, value: str) -> int | str:
    """A count option's value: a positive whole number, or "all"; anything else is one line naming the option."""
    if value == "all":
        return value
    if not value.isdigit() or int(value) < 1:
        raise CalibenchError(f"{option} takes a positive whole number or all, got {value!r}")
    return int(value)


@cli.command()
@click.option("--dataset", default="mmlu", show_default=True, help="A vendored dataset name or a JSONL/CSV file.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--subjects",
    default=None,
    help="Comma-separated subjects, or 'all'. Default: MMLU's 16 study subjects (MMLU), every subject (other data).",
)
@click.option("--n-total", default=str(DEFAULT_N_TOTAL), show_default=True, help="Questions in all, or 'all'.")
@click.option("--n-per-subject", type=click.IntRange(min=1), default=None, help="Questions per subject (instead of --n-total).")
@click.option("--strata", type=click.Choice(STRATA), default="category", show_default=True)
@click.option("--keep-duplicates", is_flag=True, help="Keep repeated (question, choices) pairs.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the questions here as JSONL.")
def sample(dataset, seed, subjects, n_total, n_per_subject, strata, keep_duplicates, out) -> None:
    """Draw a study sample and print its manifest (as JSON); optionally write its questions."""
    total = None if n_per_subject is not None else _count_option("--n-total", n_total)
    chosen = None if subjects is None else ("all" if subjects == "all" else [s.strip() for s in subjects.split(",") if s.strip()])
    drawn = sample_study(
        load_dataset(dataset),
        seed=seed,
        subjects=chosen,
        n_total=total,
        n_per_subject=n_per_subject,
        strata=strata,
        dedupe=not keep_duplicates,
    )
    if out is not None:
        lines = (
            json.dumps(
                {
                    "id": q.id,
                    "subject": q.subject,
                    "category": q.category,
                    "question": q.question,
                    "choices": list(q.choices),
                    "answer": q.answer,
                },
                ensure_ascii=False,
            )
            + "\n"
            for q in drawn.questions
        )
        write_atomic(out, "".join(lines))
    click.echo(json.dumps(drawn.manifest.to_dict(), indent=2, ensure_ascii=False))


QUICK_N = 60


def _model_option(value: str, api_key_env: str | None) -> dict:
    """--model NAME_OR_PATH runs locally; --model NAME@URL asks an OpenAI-compatible endpoint."""
    if "@http://" in value or "@https://" in value:
        name, url = value.split("@", 1)
        return {"name": name, "endpoints": [{"base_url": url, "api_key_env": api_key_env}]}
    return {"name": value}


@cli.command()
@click.argument("study", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", "models", multiple=True, help="Ladder name or .gguf path (local), or NAME@URL for an OpenAI-compatible endpoint. Repeatable.")
@click.option("--api-key-env", default=None, help="Environment variable holding the key for --model NAME@URL endpoints.")
@click.option("--protocol", "protocols", multiple=True, help="A protocol (calibench protocols lists them), or module:NAME of your own (default: the five defaults the models can run). Repeatable.")
@click.option("--dataset", default=None, help="A vendored dataset name or a JSONL/CSV file.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Ask only the first N sampled questions.")
@click.option("--repetitions", type=click.IntRange(min=1), default=None, help="Runs per question.")
@click.option("--temperature", type=click.FloatRange(0, 2), default=None)
@click.option("--max-tokens", type=click.IntRange(min=1), default=None,
              help="Most tokens a generated reply may take (stated, verbalized, verbalized-json; default: each protocol's own).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Run directory (default runs/NAME).")
@click.option("--quick", is_flag=True, help="A quick look: 60 questions (15 per category) instead of 300.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--n-total", default=None, metavar="N|all", help="Questions in the sample (default 300, or the whole dataset when smaller).")
@click.option("--subjects", default=None, metavar="A,B|all", help="Comma-separated subjects to sample from, or all.")
@click.option("--seed", type=int, default=None, help="Seed of the question sample (which questions are drawn).")
@click.option("--concurrency", type=click.IntRange(min=1), default=None, help="Requests in flight per remote endpoint.")
@click.option("--dry-run", is_flag=True, help="Print what would be asked (questions, requests, tokens, time) and ask nothing.")
@click.option("--max-failed", default=None, metavar="N|SHARE",
              help="Failed requests a model may have before the run stops: a count (20) or a share of its requests (5%, 0.05; default 5%).")
def run(study, models, api_key_env, protocols, dataset, limit, repetitions, temperature, max_tokens, out, quick, quiet, n_total,
        subjects, seed, concurrency, dry_run, max_failed) -> None:
    """Run (or resume) a study: from STUDY.toml, from flags, or both (flags win)."""
    from calibench.study import load_config, parse_config, run_study

    data = load_config(study) if study else {"name": "study"}
    if models:
        data["models"] = [_model_option(m, api_key_env) for m in models]
    if protocols:
        data["protocols"] = list(protocols)
    if n_total is not None:
        n_total = _count_option("--n-total", n_total)
        data.setdefault("data", {}).pop("n_per_subject", None)
    if subjects is not None:
        subjects = "all" if subjects == "all" else [s.strip() for s in subjects.split(",") if s.strip()]
    for section, key, value in (("data", "dataset", dataset), ("data", "limit", limit), ("data", "n_total", n_total),
                                ("data", "subjects", subjects), ("data", "seed", seed),
                                ("sampling", "repetitions", repetitions), ("sampling", "temperature", temperature),
                                ("sampling", "max_tokens", max_tokens)):
        if value is not None:
            data.setdefault(section, {})[key] = value
    if concurrency is not None:
        for model in data["models"] if "models" in data else []:
            for endpoint in model.get("endpoints", []):
                endpoint["max_concurrency"] = concurrency
    if quick:
        data.setdefault("data", {}).update({"n_total": QUICK_N, "n_per_subject": None})
        data["name"] = f"{data.get('name', 'study')}-quick"
        if data.get("out") and out is None:
            data["out"] = f"{data['out']}-quick"
    if out is not None:
        data["out"] = str(out)
    if max_failed is not None:
        data["max_failed"] = _count_or_share("--max-failed", max_failed)
    if "models" not in data:
        raise CalibenchError("no model given: name one with --model or in the study file's [[models]]")
    config = parse_config(data, source=str(study) if study else "command line")
    _note_short_budgets(config)
    if dry_run:
        from calibench.study.dry_run import dry_run as plan

        click.echo(f"dry run of {config.name}: nothing is asked or stored")
        plans = plan(config)
        for model in plans:
            click.echo(model.line())
        total = f"{sum(sum(p.requests.values()) for p in plans)} requests"
        if all(p.minutes is not None for p in plans):
            total += f", about {sum(p.minutes for p in plans):.0f} min, the models asked one after another"
        click.echo(f"in all: {total}")
        return
    console = Console(stderr=True)
    previous = signal.signal(signal.SIGTERM, _terminated)  # a kill (a scheduler's, a CI's) stops like Ctrl-C
    try:
        run_dir = run_study(config, console=console, show_progress=not quiet)
    except KeyboardInterrupt as stop:
        how = "terminated" if isinstance(stop, Terminated) else "interrupted"
        console.print(f"{how}: every response received so far is stored in {config.out_dir}; run the same command to resume",
                      highlight=False, soft_wrap=True)
        raise SystemExit(143 if isinstance(stop, Terminated) else 130) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    _print_summary(run_dir)


def _note_short_budgets(config) -> None:
    """Say when --max-tokens is below a protocol's own budget: its replies may come back cut."""
    from calibench.elicit.protocols import PROTOCOLS

    budget = config.sampling.max_tokens
    short = [f"{name}'s {PROTOCOLS[name].max_tokens}" for name in config.protocols
             if budget is not None and PROTOCOLS[name].generated and budget < PROTOCOLS[name].max_tokens]
    if short:
        click.echo(f"note: max_tokens {budget} is below {', '.join(short)}: replies may be cut (status truncated)", err=True)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, so that it unwinds as on Ctrl-C."""


def _terminated(signum, frame) -> None:
    raise Terminated


def _count_or_share(option: str, text: str) -> float:
    """"20" -> 20, "5%" -> 0.05, "0.05" -> 0.05; anything else is one clear line."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise CalibenchError(f"{option} takes a count (20) or a share (5% or 0.05), got {text!r}") from None
    if value <= 0 or (value >= 1 and value != int(value)):
        raise CalibenchError(f"{option} takes a count (20) or a share (5% or 0.05), got {text!r}")
    return value


def _print_summary(run_dir: Path) -> None:
    from calibench.report import rich_table, rows, write_report
    from calibench.report.headline import headline
    from calibench.report.table import TERMINAL_WIDTH
    from calibench.study import load_run
    from calibench.study.store import Store

    run = load_run(run_dir)
    results = run.results
    with Store(run_dir / "responses.sqlite") as store:
        requests_failed = store.count()["failed"]
    if requests_failed:
        first = next(i["error"] for i in run.items if i["status"] == "failed")
        Console(stderr=True).print(
            f"calibench: {requests_failed} request(s) failed, no reply (first error: {first}); they are left out of every "
            "rate and policy, and asked again when you run the same command", highlight=False, soft_wrap=True,
        )
    console = Console()
    console.width = max(console.width, TERMINAL_WIDTH)  # the table needs the room; a pipe reports 80
    console.print(rich_table(rows(results), title=results.study, notes=headline(results)))
    page = write_report([results], run_dir, items=[run.items])
    Console(stderr=True).print(f"report: {page}", highlight=False)


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Where to write (default: RUN_DIR).")
def report(run_dir: Path, out: Path | None) -> None:
    """Render report.html, table.md and the figures from RUN_DIR/results.json (no model is asked)."""
    from calibench.report import write_report
    from calibench.study.run import load_items, load_results

    items = load_items(run_dir)
    page = write_report([load_results(run_dir)], out or run_dir, items=None if items is None else [items])
    click.echo(str(page))


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--method", "methods", multiple=True, help="temperature, platt, isotonic, histogram, scaling-binning, shift (default: all). Repeatable.")
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--transfer-from", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also fit each map on this run's answers (same model and protocol) and apply it here.")
def recalibrate(run_dir: Path, methods, folds: int, seed: int, transfer_from: Path | None) -> None:
    """Recalibrate a run on held-out folds; write the results into results.json and re-render the report."""
    from calibench.recalibrate.maps import METHODS
    from calibench.recalibrate.run import recalibrate_run
    from calibench.report import write_report

    from calibench.study.run import load_items

    results = recalibrate_run(run_dir, methods=tuple(methods) or METHODS, folds=folds, seed=seed, transfer_from=transfer_from)
    items = load_items(run_dir)
    page = write_report([results], run_dir, items=None if items is None else [items])
    click.echo(str(page))


@cli.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/compare"), show_default=True)
def compare(run_dirs: tuple[Path, ...], out: Path) -> None:
    """Merge several runs into one report."""
    from calibench.report import write_report
    from calibench.study.run import load_items, load_results

    items = [load_items(d) for d in run_dirs]
    page = write_report([load_results(d) for d in run_dirs], out, items=None if None in items else items)
    click.echo(str(page))


@cli.group(name="import")
def import_() -> None:
    """Turn another tool's evaluation log into a calibench run (results.json, items.jsonl, the report)."""


@import_.command(name="lm-eval")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The run directory to write (default: runs/lm-eval-<model>).")
def import_lm_eval(path: Path, out: Path | None) -> None:
    """Import lm-evaluation-harness --log_samples output (a directory or a samples_*.jsonl file):
    each option's log-likelihood becomes letter probabilities, raw (acc) and length-normalised (acc_norm)."""
    from calibench.integrations import read_lm_eval

    _write_import(read_lm_eval(path), out)


@import_.command(name="inspect")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The run directory to write (default: runs/inspect_ai-<model>).")
def import_inspect(path: Path, out: Path | None) -> None:
    """Import an inspect_ai eval log (.eval or .json): calibench's scorer's stated confidence, a confidence
    the reply states, and the written letter's probability where the log kept logprobs."""
    from calibench.integrations import read_inspect

    _write_import(read_inspect(path), out)


def _write_import(imported, out: Path | None) -> None:
    """Write an imported log as a run directory (default: runs/<tool>-<model>) and say what was read and skipped."""
    from calibench.integrations import write_imported
    from calibench.integrations.imported import skipped_text

    target = out or Path("runs") / f"{imported.tool}-{imported.model}"
    write_imported(imported, target)
    click.echo(f"{target}: {len(imported.answers)} answers from {imported.model}; {skipped_text(imported.skipped)}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; bad input becomes one line on stderr and exit code 2."""
    try:
        cli.main(args=argv, prog_name="calibench", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        where = f"{ctx.info_name}: " if ctx is not None and ctx.parent is not None else ""
        return _fail(f"{where}{exc.format_message()}")
    except click.Abort:
        click.echo("calibench: interrupted", err=True)
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    except CalibenchError as exc:
        return _fail(str(exc))
    except OSError as exc:  # a path the operating system refused (permissions, full disk, ...)
        return _fail(f"{str(exc.filename) + ': ' if exc.filename else ''}{exc.strerror or exc}")
    return 0


def _fail(message: str) -> int:
    """Print one line (newlines inside a message, say from a file name, are flattened) and return 2."""
    click.echo("calibench: error: " + " ".join(message.split()), err=True)
    return 2


if __name__ == "__main__":
    sys.exit(main())
