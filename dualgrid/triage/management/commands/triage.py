"""``dualgrid triage`` — train, predict with, register and switch the triage models.

dualgrid triage train --data FILE.jsonl [--out DIR] [--test-split 0.2 --seed 0 --C 1.0] [--register [--activate]]
dualgrid triage train --from-cases [--since DATE] [--level N] [--out DIR] [--register [--activate]]
dualgrid triage train --task actionable --data FILE.jsonl ...   (labels: 1/0, true/false, actionable/chatter)
dualgrid triage train-actionable --from-feed [--since DATE] [--chatter-per-decision 1] [--register [--activate]]
dualgrid triage predict --model DIR --input FILE.jsonl [--actionable-model DIR] [--explain] > out.jsonl
dualgrid triage register DIR [--activate] [--note TEXT]
dualgrid triage activate VERSION | rollback --task category|actionable | deactivate --task ... | list
dualgrid triage check "家里老人走失了"       (one text through the live triage, as JSON)
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dualgrid.lib.errors import DomainError
from dualgrid.triage import engine, history, learn, services
from dualgrid.triage.features import record_doc
from dualgrid.triage.models import ModelTask, TriageModel

TRUE_LABELS = {"1", "true", "yes", "actionable", "需处置", "case", "是"}
FALSE_LABELS = {"0", "false", "no", "chatter", "闲聊", "dismissed", "否"}


class Command(BaseCommand):
    help = "Triage models: train, predict, register, activate, roll back (see docs/TRIAGE.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser(
            "train", help="train a model from JSON lines {text|tokens, label} or from the closed cases"
        )
        train.add_argument("--task", choices=ModelTask.values, default=ModelTask.CATEGORY)
        source = train.add_mutually_exclusive_group(required=True)
        source.add_argument("--data", help="JSON lines: {'text': …, 'label': …} or {'tokens': …, 'label': …}")
        source.add_argument(
            "--from-cases",
            action="store_true",
            help="the platform's closed cases: title + description → category code (category task)",
        )
        train.add_argument(
            "--level",
            type=int,
            help="with --from-cases: learn the ancestor category at this depth (1 = top level)",
        )
        train.add_argument(
            "--min-per-label",
            type=int,
            default=3,
            help="with --from-cases: leave out categories with fewer cases than this",
        )
        _train_arguments(train)
        act = sub.add_parser("train-actionable", help="train --task actionable (labels 1/0)")
        source = act.add_mutually_exclusive_group(required=True)
        source.add_argument("--data", help="JSON lines: {'text': …, 'label': 1/0}")
        source.add_argument(
            "--from-feed",
            action="store_true",
            help="the patrol feed's decisions: made into a case = actionable, dismissed = not",
        )
        act.add_argument(
            "--chatter-per-decision",
            type=float,
            default=history.CHATTER_PER_DECISION,
            help="with --from-feed: never-flagged messages taken as chatter, per decision (default 1; 0 = none)",
        )
        _train_arguments(act)

        predict = sub.add_parser(
            "predict", help="JSON lines {id, title?, text} → {id, label, confidence, actionable, urgency}"
        )
        predict.add_argument("--model", required=True, help="model folder")
        predict.add_argument("--input", required=True, help="JSON lines, '-' for standard input")
        predict.add_argument(
            "--actionable-model", help="an actionability model folder to combine with the rules"
        )
        predict.add_argument("--explain", action="store_true", help="add kind, category_code and reasons")

        register = sub.add_parser("register", help="record a trained model folder as a version")
        register.add_argument("path")
        register.add_argument("--activate", action="store_true")
        register.add_argument("--note", default="")

        activate = sub.add_parser("activate", help="make a registered version the live one of its task")
        activate.add_argument("version")
        for name in ("rollback", "deactivate"):
            p = sub.add_parser(name, help=f"{name} the live model of a task")
            p.add_argument("--task", choices=ModelTask.values, default=ModelTask.CATEGORY)
        sub.add_parser("list", help="registered versions")
        check = sub.add_parser("check", help="triage texts with the live rules and models, as JSON")
        check.add_argument("texts", nargs="+")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action in ("train", "train-actionable"):
                self._train(
                    options, ModelTask.ACTIONABLE if action == "train-actionable" else options["task"]
                )
            elif action == "predict":
                self._predict(options)
            elif action == "register":
                model = services.register_model(
                    options["path"], note=options["note"], activate=options["activate"]
                )
                self.stdout.write(f"registered {model.version}{' (active)' if model.active else ''}")
            elif action == "activate":
                chosen = TriageModel.objects.filter(version=options["version"]).first()
                if chosen is None:
                    raise CommandError(f"no version {options['version']}")
                services.activate_model(chosen)
                self.stdout.write(f"active: {chosen.version}")
            elif action == "rollback":
                target = services.rollback(options["task"])
                self.stdout.write(f"active: {target.version if target else 'none (rules alone)'}")
            elif action == "deactivate":
                services.deactivate(options["task"])
                self.stdout.write("no active model: rules alone")
            elif action == "list":
                for m in TriageModel.objects.all():
                    flag = "*" if m.active else " "
                    self.stdout.write(f"{flag} {m.version:32} {m.task:10} {m.metric_summary()}  {m.note}")
            elif action == "check":
                for result in engine.triage_many(options["texts"]):
                    self.stdout.write(json.dumps(asdict(result), ensure_ascii=False))
        except learn.TrainingError as exc:
            raise CommandError(str(exc)) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc

    def _train(self, options: dict[str, Any], task: str) -> None:
        if options.get("from_feed"):
            self._train_from_feed(options)
            return
        sha: str | None
        if options.get("from_cases"):
            if task != ModelTask.CATEGORY:
                raise CommandError("--from-cases trains the category task; use train-actionable --from-feed")
            examples, stats = history.case_examples(
                since=options["since"], level=options["level"], min_per_label=options["min_per_label"]
            )
            self.stdout.write(f"closed cases{_since(options)}: {stats.summary()}")
            sha = None  # learn.train hashes the examples themselves
        else:
            if options["since"] is not None:
                raise CommandError("--since goes with --from-cases or --from-feed")
            data = Path(options["data"])
            if not data.is_file():
                raise CommandError(f"{data}: no such file")
            examples, sha = learn.read_jsonl(data)
        if task == ModelTask.ACTIONABLE:
            examples = [learn.Example(e.doc, _binary_label(e.label)) for e in examples]
        model = learn.train(
            examples,
            options.get("out"),
            task=task,
            test_split=options["test_split"],
            seed=options["seed"],
            C=options["C"],
            data_sha256=sha,
            note=options["note"],
        )
        m = model.meta["metrics"]
        summary = (
            f"macro-F1 {m['macro_f1']:.4f}, accuracy {m['accuracy']:.4f} on {m['n_test']} held-out rows"
            if "macro_f1" in m
            else m.get("note", "no held-out metrics")
        )
        self.stdout.write(f"{model.version}: {len(examples)} examples, {len(model.labels)} labels; {summary}")
        self.stdout.write(f"saved to {model.path}")
        if options["register"] or options["activate"]:
            registered = services.register_model(
                model.path, note=options["note"], activate=options["activate"]
            )
            self.stdout.write(f"registered {registered.version}{' (active)' if registered.active else ''}")

    def _train_from_feed(self, options: dict[str, Any]) -> None:
        if options["chatter_per_decision"] < 0:
            raise CommandError("--chatter-per-decision must be 0 or more")
        rows, stats = history.feed_rows(
            since=options["since"], chatter_per_decision=options["chatter_per_decision"], seed=options["seed"]
        )
        self.stdout.write(f"patrol feed decisions{_since(options)}: {stats.summary()}")
        self.stdout.write(
            "(messages the triage never flagged are no decisions; the newest of them, "
            f"{options['chatter_per_decision']:g} per decision, show the model what chatter looks like)"
        )
        register = bool(options["register"] or options["activate"])
        path = learn.train_actionable(
            rows,
            options.get("out"),
            register=register,
            activate=bool(options["activate"]),
            note=options["note"],
            test_split=options["test_split"],
            seed=options["seed"],
        )
        meta = learn.read_meta(path)
        m = meta.get("metrics", {})
        summary = (
            f"macro-F1 {m['macro_f1']:.4f}, accuracy {m['accuracy']:.4f} on {m['n_test']} held-out rows"
            if "macro_f1" in m
            else m.get("note", "no held-out metrics")
        )
        self.stdout.write(f"{meta['version']}: {len(rows)} examples; {summary}")
        if "rule_logit" in meta:
            self.stdout.write(
                f"rule weight {meta['rule_logit']:g} (5-fold F1 by weight: "
                + ", ".join(f"{w} → {f:.3f}" for w, f in meta["rule_logit_f1"].items())
                + ")"
            )
        else:
            self.stdout.write(
                f"rule weight: the default {engine.RULE_LOGIT:g} (too few decisions to learn one)"
            )
        if "urgent_threshold" in meta:
            self.stdout.write(
                f"urgency model from {meta['urgent_n']} 紧急 decisions: 紧急 at p ≥ {meta['urgent_threshold']:g} "
                "(5-fold F2 of urgent rules or model, by threshold: "
                + ", ".join(f"{t} → {f:.3f}" for t, f in meta["urgent_f2"].items())
                + ")"
            )
        else:
            self.stdout.write(
                f"紧急: the urgent rules alone (an urgency model needs {learn.URGENT_MIN_DECISIONS} 紧急 decisions)"
            )
        self.stdout.write(f"saved to {path}")
        if register:
            active = TriageModel.objects.filter(version=meta["version"], active=True).exists()
            self.stdout.write(f"registered {meta['version']}{' (active)' if active else ''}")

    def _predict(self, options: dict[str, Any]) -> None:
        model = learn.load(options["model"])
        act = learn.load(options["actionable_model"]) if options.get("actionable_model") else None
        if model.task == ModelTask.ACTIONABLE and act is None:
            category, act = None, model
        else:
            category = model
        source = sys.stdin if options["input"] == "-" else Path(options["input"]).open(encoding="utf-8-sig")
        batch: list[dict[str, Any]] = []
        try:
            for number, line in enumerate(source, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CommandError(f"line {number}: not JSON ({exc.msg})") from exc
                if not isinstance(record, dict):
                    raise CommandError(f"line {number}: expected an object")
                batch.append(record)
                if len(batch) >= 2000:
                    self._predict_batch(batch, model, category, act, options["explain"])
                    batch = []
            if batch:
                self._predict_batch(batch, model, category, act, options["explain"])
        finally:
            if source is not sys.stdin:
                source.close()

    def _predict_batch(
        self,
        batch: list[dict[str, Any]],
        model: learn.LoadedModel,
        category: learn.LoadedModel | None,
        act: learn.LoadedModel | None,
        explain: bool,
    ) -> None:
        docs = [record_doc(r) for r in batch]
        proba = model.predict_proba(docs)
        texts = [" ".join(str(r.get(k) or "") for k in ("title", "text")).strip() for r in batch]
        results = engine.triage_with(texts, category=category, actionable=act)
        for record, row, result in zip(batch, proba, results, strict=True):
            best = int(row.argmax())
            out: dict[str, Any] = {
                "id": record.get("id"),
                "label": model.labels[best],
                "confidence": round(float(row[best]), 4),
                "actionable": result.actionable,
                "urgency": result.urgency,
            }
            if explain:
                out.update(kind=result.kind, category_code=result.category_code, reasons=result.reasons)
            self.stdout.write(json.dumps(out, ensure_ascii=False))


def _train_arguments(p: CommandParser) -> None:
    p.add_argument(
        "--since",
        type=date.fromisoformat,
        help="with --from-cases / --from-feed: only cases closed / decisions taken on or after this day (YYYY-MM-DD)",
    )
    p.add_argument("--out", help="model folder (default VAR_DIR/triage/<version>)")
    p.add_argument("--test-split", type=float, default=0.2, help="held-out share for the metrics (0 = none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--C", type=float, default=1.0, help="SVM regularisation (larger = fits harder)")
    p.add_argument("--register", action="store_true", help="record the version in the database")
    p.add_argument("--activate", action="store_true", help="register and make it the live model of its task")
    p.add_argument("--note", default="")


def _since(options: dict[str, Any]) -> str:
    return f" since {options['since']}" if options.get("since") else ""


def _binary_label(label: str) -> str:
    value = label.strip().lower()
    if value in TRUE_LABELS:
        return learn.ACTIONABLE
    if value in FALSE_LABELS:
        return learn.CHATTER
    raise learn.TrainingError(f"actionability label {label!r}: use 1/0, true/false or actionable/chatter")
