"""Benchmarks of the Chain Reactor on the dev stack (see bench/README.md). Not tests: nothing is
asserted about speed; the figures are printed and written to bench/results/ with the machine's
facts and load.

    make bench                                   # the full run (dev stack started if needed)
    .venv/bin/python bench/reactor_bench.py --sizes 1,2 --samples 1 --inventory-repeats 1
"""
import argparse
import datetime
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from bench_env import ROOT, BenchError, endpoints as dev_endpoints  # noqa: E402  pylint: disable=wrong-import-position
from bench_inventory import run_inventory_benchmarks  # noqa: E402  pylint: disable=wrong-import-position
from bench_machine import LoadSampler, facts, load_average  # noqa: E402  pylint: disable=wrong-import-position
from bench_events import run_event_benchmarks  # noqa: E402  pylint: disable=wrong-import-position
from bench_reactor import run_reactor_benchmarks  # noqa: E402  pylint: disable=wrong-import-position

BENCHMARKS = ("latency", "reconcile", "scale", "inventory", "events")


def sizes(text):
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes are comma-separated whole numbers, got {text!r}") from None
    # 0 is a provider with no deployments: the fixed cost every ratio is taken against.
    if any(value < 0 for value in values):
        raise argparse.ArgumentTypeError(f"sizes must not be negative, got {text!r}")
    return values


def arguments(argv):
    parser = argparse.ArgumentParser(description="Benchmarks of the Chain Reactor on the dev stack.")
    parser.add_argument("--only", action="append", choices=BENCHMARKS,
                        help="run only this benchmark (repeatable); default: all")
    parser.add_argument("--samples", type=int, default=5, help="award-to-Running samples (default 5)")
    parser.add_argument("--sizes", type=sizes, help="override both --reconcile-sizes and --inventory-sizes")
    parser.add_argument("--reconcile-sizes", type=sizes, default=[0, 1, 10, 100], help="default 0,1,10,100")
    parser.add_argument("--scale-sizes", type=sizes, default=[1000],
                        help="verify runs of N copied running deployments (bench_scale.py); default 1000")
    parser.add_argument("--inventory-sizes", type=sizes, default=[100, 1000, 10000], help="default 100,1000,10000")
    parser.add_argument("--inventory-repeats", type=int, default=3, help="ansible-inventory runs per size (default 3)")
    parser.add_argument("--event-samples", type=int, default=3,
                        help="event mode's award-to-Running samples, and as many of one run after the award (default 3)")
    parser.add_argument("--block-awards", type=int, default=100, help="awards sent at once in the events benchmark "
                        "(default 100; 0 for none)")
    parser.add_argument("--results-dir", type=pathlib.Path, default=ROOT / "bench" / "results")
    parser.add_argument("--keep-workdir", action="store_true", help="keep the runs' workspaces and simulator log")
    args = parser.parse_args(argv)
    if args.sizes:
        args.reconcile_sizes = args.inventory_sizes = args.sizes
    args.only = args.only or list(BENCHMARKS)
    return args


def table(results):
    """The figures, as the Markdown table docs/performance.md shows."""
    rows = ["| benchmark | N | median (s) | min (s) | max (s) | runs | notes |", "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    latency = results.get("latency")
    if latency:
        spread = latency["award_to_running"]
        rows.append(f"| award → Running (one run right after the award) | 1 | {spread['median']} | {spread['min']} | "
                    f"{spread['max']} | {spread['n']} | run wall time median {latency['run_seconds']['median']} s |")
    empty = next((s for s in results.get("reconcile", []) if s["size"] == 0), None)
    for size in results.get("reconcile", []):
        for phase, title in (("deploy", "reconcile: deploy N awarded"), ("verify", "reconcile: verify N running")):
            run = size[phase]
            notes = [f"{run['seconds'] / size['size']:.2f} s per deployment" if size["size"] else "no deployments"]
            if empty and size["size"]:
                # Within this run of the bench: the same run with no deployments at all.
                notes.append(f"{run['seconds'] / empty[phase]['seconds']:.2f}x the run with none")
            rows.append(f"| {title} | {size['size']} | {run['seconds']} | | | 1 | {'; '.join(notes)}; exit {run['exit_code']} |")
    for size in results.get("scale", []):
        rows.append(f"| verify N running (N copies of one real deployment), nothing to do | {size['size']} | "
                    f"{size['verify']['seconds']} | | | 1 | {size['ratio_to_empty']}x the same provider's run with none "
                    f"({size['empty']['seconds']} s); {size['unchanged']} unchanged; exit {size['verify']['exit_code']} |")
    for size in results.get("inventory", []):
        cli, read = size["cli"], size["chain_read"]
        rows.append(f"| ansible-inventory --list | {size['size']} | {cli['median']} | {cli['min']} | {cli['max']} | "
                    f"{cli['n']} | chain read {read['seconds']} s ({size['read_without_keys_paged']} s without "
                    f"state_getKeysPaged), {read['rpc_calls']} RPCs; static YAML copy {size['static_cli']['median']} s, "
                    f"ratio {size['ratio_to_static']} |")
    events = results.get("events")
    if events:
        mode, delivery = events["event_mode"]["award_to_running"], events["event_mode"]["delivery"]
        rows.append(f"| award → Running in event mode (ansible-rulebook, no run by hand) | 1 | {mode['median']} | "
                    f"{mode['min']} | {mode['max']} | {mode['n']} | {events.get('ratio_to_one_run')}x one run right after "
                    f"the award in this bench run ({events['one_run_after_the_award']['median']} s) |")
        rows.append(f"| event delivery: award final → ansible-rulebook has the event | 1 | {delivery['median']} | "
                    f"{delivery['min']} | {delivery['max']} | {delivery['n']} | |")
        burst = events.get("burst")
        if burst:
            spread = burst["delivery"]
            rows.append(f"| a burst of N awards: each event after its block is final | {burst['size']} | {spread['median']} | "
                        f"{spread['min']} | {spread['max']} | {spread['n']} | {burst['blocks']} block(s); "
                        f"{burst['runs_started_by_the_burst']} reconcile run(s) started by them, events in their throttle "
                        f"windows {burst['events_in_window']} |")
            same = next((s for s in results.get("reconcile", []) if s["size"] == burst["size"]), None)
            ratio = (f"; {burst['all_running'] / same['deploy']['seconds']:.2f}x this bench run's reconcile run that "
                     f"deploys {burst['size']} ({same['deploy']['seconds']} s)") if same and burst["all_running"] else ""
            rows.append(f"| a burst of N awards: first block final → all N Running, event mode | {burst['size']} | "
                        f"{burst['all_running']} | | | 1 | {burst['runs_started_in_all']} reconcile runs in all{ratio} |")
    return "\n".join(rows)


def problems(results):
    found = list((results.get("latency") or {}).get("problems", []))
    for size in results.get("reconcile", []):
        found.extend(f"reconcile {size['size']}: {problem}" for problem in size["problems"])
    found.extend(f"events: {problem}" for problem in (results.get("events") or {}).get("problems", []))
    for size in results.get("scale", []):
        found.extend(f"scale {size['size']}: {problem}" for problem in size["problems"])
    return found


def main(argv=None):
    args = arguments(argv)
    endpoints = dev_endpoints()
    started_at = datetime.datetime.now(datetime.timezone.utc)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    out = args.results_dir / f"reactor-{stamp}.json"
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="dinfra-bench-"))
    sampler = LoadSampler().start()
    began = time.monotonic()
    # Reactor sets no forks: Ansible's default (5), as in docs/examples/reactor/ansible.cfg.
    results = {"machine": facts(), "load_before": load_average(), "forks": int(os.environ.get("ANSIBLE_FORKS", "5")),
               "benchmarks": args.only,
               "settings": {"samples": args.samples, "reconcile_sizes": args.reconcile_sizes,
                            "inventory_sizes": args.inventory_sizes, "inventory_repeats": args.inventory_repeats},
               "phases": {}}

    def log(message):
        print(f"[{time.monotonic() - began:7.0f} s, load {load_average()[0]:.2f}] {message}", flush=True)

    def save():
        results["load_after"] = load_average()
        results["load_during"] = sampler.window(began)
        results["duration_seconds"] = round(time.monotonic() - began)
        out.write_text(json.dumps(results, indent=2) + "\n")

    def phase(name, since):
        results["phases"][name] = {"seconds": round(time.monotonic() - since), "load": sampler.window(since)}
        save()

    try:
        log(f"results go to {out}; workspace {workdir}")
        since = time.monotonic()
        latency, per_size, at_scale = run_reactor_benchmarks(
            endpoints, workdir, args.samples if "latency" in args.only else 0,
            args.reconcile_sizes if "reconcile" in args.only else [], log,
            args.scale_sizes if "scale" in args.only else [])
        if latency:
            results["latency"] = latency
        if per_size:
            results["reconcile"] = per_size
        if at_scale:
            results["scale"] = at_scale
        phase("reactor", since)
        if "events" in args.only:
            since = time.monotonic()
            results["events"] = run_event_benchmarks(endpoints, workdir, args.event_samples, args.block_awards, log)
            phase("events", since)
        if "inventory" in args.only:
            since = time.monotonic()
            results["inventory"] = run_inventory_benchmarks(endpoints, workdir, args.inventory_sizes,
                                                            args.inventory_repeats, log)
            phase("inventory", since)
    except BenchError as exc:
        results["error"] = str(exc)
        save()
        print(f"benchmark failed: {exc}\n(partial results in {out})", file=sys.stderr)
        return 1
    except Exception as exc:
        # A node or simulator that stopped answering: keep what was measured, then show the trace.
        results["error"] = f"{type(exc).__name__}: {exc}"
        save()
        print(f"partial results in {out}", file=sys.stderr)
        raise
    finally:
        sampler.stop()
        if args.keep_workdir:
            print(f"workspace kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    save()
    print()
    print(table(results))
    print(f"\nmachine: {results['machine']['cpu_model']} x{results['machine']['cpu_count']}, "
          f"{results['machine']['memory_gib']} GiB; ansible-core {results['machine']['ansible_core']}; "
          f"load {results['load_before']} before, {results['load_after']} after, during {results['load_during']}")
    print(f"took {results['duration_seconds']} s; results: {out}")
    found = problems(results)
    for problem in found:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
