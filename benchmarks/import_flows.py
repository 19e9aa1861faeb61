"""Flow import benchmark: a large RapidPro workspace export into YAML flows.

    python benchmarks/import_flows.py                  # 200 flows of 40 nodes
    python benchmarks/import_flows.py --flows 50 --nodes 100

Builds a workspace export (spec 13.2) of N messaging flows, each a chain of questions
(a message, a wait with three text categories and Other asking again) with Dutch and
Arabic translations, writes it to a scratch folder and imports it with
`bot.flows.importing.import_file` into another (no catalogs). Printed: the export's
size, the time to read it alone and to import it (read, build, check, write), per flow,
and the process's peak memory. The file size limit of an import is 20 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.flows.importing import import_file  # noqa: E402
from bot.flows.importing.reading import read_export  # noqa: E402


def u(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


def make_flow(number: int, nodes: int) -> dict:
    definition = {"nodes": [], "localization": {"nld": {}, "ara": {}}}
    questions = nodes // 2
    for q in range(questions):
        ask, wait = u(number, q, "ask"), u(number, q, "wait")
        following = u(number, q + 1, "ask") if q + 1 < questions else None
        message = u(number, q, "msg")
        definition["nodes"].append(
            {
                "uuid": ask,
                "actions": [{"uuid": message, "type": "send_msg", "text": f"Question {q}?"}],
                "exits": [{"uuid": u(ask, "x"), "destination_uuid": wait}],
            }
        )
        names = ["Good", "Fine", "Bad"]
        categories = [
            {"uuid": u(wait, n), "name": n, "exit_uuid": u(wait, n, "x")} for n in [*names, "Other"]
        ]
        definition["nodes"].append(
            {
                "uuid": wait,
                "actions": [],
                "router": {
                    "type": "switch",
                    "operand": "@input.text",
                    "result_name": f"Question {q}",
                    "wait": {"type": "msg"},
                    "default_category_uuid": u(wait, "Other"),
                    "categories": categories,
                    "cases": [
                        {
                            "uuid": u(wait, n, "c"),
                            "type": "has_any_word",
                            "arguments": [n.lower()],
                            "category_uuid": u(wait, n),
                        }
                        for n in names
                    ],
                },
                "exits": [
                    {
                        "uuid": u(wait, n, "x"),
                        "destination_uuid": ask if n == "Other" else following,
                    }
                    for n in [*names, "Other"]
                ],
            }
        )
        definition["localization"]["nld"][message] = {"text": [f"Vraag {q}?"]}
        definition["localization"]["ara"][message] = {"text": [f"سؤال {q}؟"]}
    return {
        "uuid": u(number),
        "name": f"Poll {number}",
        "spec_version": "13.2.0",
        "language": "eng",
        "type": "messaging",
        "revision": 1,
        "expire_after_minutes": 10080,
        **definition,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--nodes", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        source = folder / "export.json"
        export = {"version": "13", "flows": [make_flow(n, args.nodes) for n in range(args.flows)]}
        source.write_text(json.dumps(export), encoding="utf-8")
        size = source.stat().st_size
        started = time.perf_counter()
        read_export(source)
        reading = time.perf_counter() - started
        started = time.perf_counter()
        outcome = import_file(source, folder / "flows")
        importing = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"export: {args.flows} flows x {args.nodes} nodes, {size / 1e6:.1f} MB")
    print(f"read and validate: {reading:.2f} s")
    print(
        f"import: {importing:.2f} s, {1000 * importing / max(1, len(outcome.imported)):.1f} ms "
        f"a flow, {len(outcome.imported)} flows written, {len(outcome.lines)} report lines"
    )
    print(f"peak memory: {peak:.0f} MB")


if __name__ == "__main__":
    main()
