"""The web page's numbers: ``like`` over HTTP against in-process, and the first page.

    python -m bench.web                 # both, a JSON report on stdout (bench/out/web.json)
    python -m bench.web --queries 100   # fewer queries
    python -m bench.web --skip-browser  # HTTP only

1. ``like`` at 5,157 documents: the nvidia collection (built once from the cached offline-model
   embeddings, bench/startup.py) served by ``search serve``'s application in a thread of this
   process (uvicorn), asked over HTTP on one kept-alive connection, and the same query asked
   in-process on the server's own open store, alternately, query by query, so that both see
   the same machine load.  Then the same HTTP queries to ``search serve`` in a process of
   its own (no client in its interpreter).
2. The first page with results in headless Chromium: the example collection
   (examples/patents.xlsx, the offline model), ``/?like=0`` opened in a fresh browser
   context (empty cache) each time, from navigation start to the results on the page
   (``performance.mark("results-drawn")`` in the page's script).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import select
import subprocess
import time
from pathlib import Path
from typing import Any

from .common import BIN, OUT, ROOT, log, machine, save_json, summary_ms

EXAMPLE = ROOT / "examples" / "patents.xlsx"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _get(conn: http.client.HTTPConnection, path: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    seconds = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
    return seconds, body


def http_like(queries: int, seed: int = 7) -> dict[str, Any]:
    from patentsim.search import query
    from patentsim.store import StoreSettings
    from patentsim.web.server import start

    from .embeddings import nvidia_embeddings_limited
    from .startup import COLLECTION, nvidia_collection

    docs, vectors, meta = nvidia_embeddings_limited()
    folder = nvidia_collection(docs, vectors, meta["tokens"])
    settings = StoreSettings(path=str(folder))
    refs = random.Random(seed).sample([str(d["doc_id"]) for d in docs], queries)

    running = start(settings, COLLECTION)
    try:
        host, port = running.url.split("//")[1].rstrip("/").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        for ref in refs[:20]:  # warm both paths
            _get(conn, f"/api/like?ref={ref}&key=true&limit=10")
            running.served.ask(lambda s, r=ref: query.like(r, key=True, store=s))
        over_http, in_process, same = [], [], 0
        for ref in refs:
            seconds, body = _get(conn, f"/api/like?ref={ref}&key=true&limit=10")
            over_http.append(seconds)
            started = time.perf_counter()
            answer = running.served.ask(
                lambda s, r=ref: query.like(r, key=True, limit=10, collection=COLLECTION, store=s)
            ).value
            in_process.append(time.perf_counter() - started)
            keys = [h["key"] for h in json.loads(body)["hits"]]
            same += keys == [h.key for h in answer.hits]
        conn.close()
    finally:
        running.stop()
    separate = _separate_process(folder, COLLECTION, refs)
    http_ms, local_ms = summary_ms(over_http), summary_ms(in_process)
    return {
        "documents": len(docs),
        "queries": queries,
        "limit": 10,
        "over_http_ms": http_ms,
        "in_process_ms": local_ms,
        "http_over_in_process_p50": round(http_ms["median_ms"] / local_ms["median_ms"], 2),
        "same_answers": same,
        "search_serve_process_ms": separate,
        "setup": "uvicorn in a thread of the client's process, one kept-alive connection; "
        "in-process: the library's like() on the server's open store (its lock included), "
        "alternating query by query",
    }


def _separate_process(folder: Path, collection: str, refs: list[str]) -> dict[str, float]:
    """The same queries to ``search serve`` started as a command."""
    command = [str(BIN / "search"), "serve", "--path", str(folder), "-c", collection]
    proc = subprocess.Popen(
        [*command, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        url = proc.stdout.readline().decode().strip() if ready else ""
        if not url.startswith("http://"):
            raise RuntimeError(f"search serve did not start: {url!r}")
        host, port = url.split("//")[1].rstrip("/").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        for ref in refs[:20]:
            _get(conn, f"/api/like?ref={ref}&key=true&limit=10")
        times = [_get(conn, f"/api/like?ref={ref}&key=true&limit=10")[0] for ref in refs]
        conn.close()
        return summary_ms(times)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def first_page(repeats: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from patentsim.embed.embedder import EmbedderConfig
    from patentsim.ingest.pipeline import load
    from patentsim.ingest.settings import LoadSettings
    from patentsim.store import StoreSettings
    from patentsim.web.server import start

    from .embeddings import use_bench_cache

    use_bench_cache()
    folder = OUT / "store_example"
    settings = StoreSettings(path=str(folder))
    if not (folder / "example" / "manifest.json").is_file():
        log("loading examples/patents.xlsx with the offline model (once)")
        embedder = EmbedderConfig.choose("minilm", device="cpu").load()
        load(
            EXAMPLE,
            LoadSettings(
                store_settings=settings, collection="example", id_column="application_number"
            ),
            embedder=embedder,
        )
    running = start(settings, "example")
    drawn, wall = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                args=CHROMIUM_ARGS,
            )
            for i in range(repeats + 1):
                context = browser.new_context(viewport={"width": 1400, "height": 950})
                page = context.new_page()
                started = time.perf_counter()
                page.goto(running.url + "?like=0")
                page.wait_for_function(
                    "() => performance.getEntriesByName('results-drawn').length > 0", timeout=30_000
                )
                seconds = time.perf_counter() - started
                mark = page.evaluate("performance.getEntriesByName('results-drawn')[0].startTime")
                rows = page.eval_on_selector_all("#hits tbody tr", "r => r.length")
                context.close()
                if rows != 20:
                    raise RuntimeError(f"the first page drew {rows} rows, not 20")
                if i == 0:
                    first = {"navigation_to_results_ms": round(mark, 1)}
                    continue  # the browser's own warm-up
                drawn.append(mark / 1000)
                wall.append(seconds)
            browser.close()
    finally:
        running.stop()
    return {
        "collection": "examples/patents.xlsx (200 rows, offline model)",
        "url": "/?like=0 (20 results, facets of every keyword field)",
        "repeats": repeats,
        "navigation_to_results_ms": summary_ms(drawn),
        "goto_to_results_wall_ms": summary_ms(wall),
        "first_of_the_browser": first,
    }


WEB_BEGIN = "<!-- web:begin -->"
WEB_END = "<!-- web:end -->"


def web_section(r: dict[str, Any]) -> str:
    """The numbers as a Markdown section (BENCHMARKS.md and docs/web.md)."""
    m, like = r["machine"], r["like_http"]
    load = m["load_average_at_start"][0], r["load_average_at_end"][0]
    lines = [
        WEB_BEGIN,
        "## The web page: `search serve`",
        "",
        f"Measured {m['date']} by `python -m bench.web` on {m['cores']} cores ({m['cpu']}), "
        f"**shared with other developers' jobs** (load average {load[0]:g} at the start, "
        f"{load[1]:g} at the end): the ratios of numbers measured side by side say more "
        "than the milliseconds.",
        "",
        f"`like` (top 10) at {like['documents']:,} documents (patents_nvidia.xlsx, offline "
        f"model), {like['queries']} random documents as queries, each asked over HTTP and "
        "in-process alternately:",
        "",
        "| | median | p99 |",
        "|---|---|---|",
    ]
    rows = [
        (
            "over HTTP (`/api/like`, uvicorn in the client's process, kept-alive connection)",
            like["over_http_ms"],
        ),
        ("in-process (`like()` on the server's open store)", like["in_process_ms"]),
        ("over HTTP to `search serve` as a process of its own", like["search_serve_process_ms"]),
    ]
    lines += [f"| {name} | {v['median_ms']:.2f} ms | {v['p99_ms']:.1f} ms |" for name, v in rows]
    lines += [
        "",
        f"HTTP costs {like['http_over_in_process_p50']:g}× the in-process median (target: "
        f"≤ 5 ms median over HTTP); {like['same_answers']} of {like['queries']} answers were "
        "the same documents both ways.",
    ]
    page = r.get("first_page")
    if page:
        nav, wall = page["navigation_to_results_ms"], page["goto_to_results_wall_ms"]
        lines += [
            "",
            f"First page with results in headless Chromium ({page['collection']}, "
            f"`{page['url']}`), a fresh browser context (empty cache) each of "
            f"{page['repeats']} times: navigation start to the results on the page "
            f"{nav['median_ms']:.0f} ms median, {nav['p99_ms']:.0f} ms at most (target: "
            f"≤ 1 s); from Playwright's `goto` {wall['median_ms']:.0f} ms median.  The "
            "browser's very first page, before these: "
            f"{page['first_of_the_browser']['navigation_to_results_ms']:.0f} ms.",
        ]
    lines.append(WEB_END)
    return "\n".join(lines)


def replace_web_section(text: str, section: str) -> str:
    """``text`` with its web section replaced by ``section`` (appended where it has none)."""
    if WEB_BEGIN in text and WEB_END in text:
        head, rest = text.split(WEB_BEGIN, 1)
        return head + section + rest.split(WEB_END, 1)[1]
    return text.rstrip("\n") + "\n\n" + section + "\n"


def keep_web_section(old: str, new: str) -> str:
    """A rewritten BENCHMARKS.md (``new``) with the web section of ``old`` kept."""
    if WEB_BEGIN not in old or WEB_END not in old or WEB_BEGIN in new:
        return new
    kept = WEB_BEGIN + old.split(WEB_BEGIN, 1)[1].split(WEB_END, 1)[0] + WEB_END
    return replace_web_section(new, kept)


def write_sections(report: dict[str, Any]) -> None:
    """The section into BENCHMARKS.md and into docs/web.md."""
    section = web_section(report)
    for path in (ROOT / "BENCHMARKS.md", ROOT / "docs" / "web.md"):
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        if path.name == "web.md":
            # The page has its own heading; the table goes under it.
            body = section.replace("## The web page: `search serve`\n\n", "")
            path.write_text(replace_web_section(text, body), encoding="utf-8")
        else:
            path.write_text(replace_web_section(text, section), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--pages", type=int, default=15)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument(
        "--no-write", action="store_true", help="do not write BENCHMARKS.md and docs/web.md"
    )
    parser.add_argument(
        "--from-report", action="store_true", help="write the sections from bench/out/web.json"
    )
    args = parser.parse_args()
    if args.from_report:
        write_sections(json.loads((OUT / "web.json").read_text(encoding="utf-8")))
        return
    report: dict[str, Any] = {"machine": machine(), "shared_machine": True}
    log(f"like over HTTP against in-process, {args.queries} queries")
    report["like_http"] = http_like(args.queries)
    if not args.skip_browser:
        log(f"first page with results in headless Chromium, {args.pages} times")
        report["first_page"] = first_page(args.pages)
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    save_json(OUT / "web.json", report)
    if not args.no_write:
        write_sections(report)
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
