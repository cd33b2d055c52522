#!/usr/bin/python3
"""ctest bench_report_test: runs etcdgrpc-bench on a tiny workload with --results_json, makes the
report page from it and opens it in headless Chromium (Selenium + chromedriver): every scenario
has its section with a rendered SVG chart (three panels, a bar per line, bars of non-zero size),
the Go peer's lines are there when it was built, and nothing on the page or in the browser's
console is an error.

    report_test.py path/to/etcdgrpc-bench [--expect-go]
"""
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

SCENARIOS = ["put_seq", "keepalive_stream", "keepalive_once_concurrent", "watch_batched",
             "watch_single"]
MAKE_REPORT = Path(__file__).resolve().parent / "make_report.py"


def fail(message):
    print(f"bench_report_test: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def browser():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def check_page(index_html, results):
    driver = browser()
    try:
        driver.set_page_load_timeout(60)
        driver.get(index_html.as_uri())
        if driver.title != "etcd-grpc benchmark report":
            fail(f"page title {driver.title!r}")
        errors = driver.find_elements(By.CSS_SELECTOR, ".error")
        if errors:
            fail("the page shows errors: " + "; ".join(e.text for e in errors))
        machine = driver.find_element(By.CSS_SELECTOR, "dl.machine").text
        for label in ("CPU", "cores", "kernel", "etcd", "gRPC", "protobuf", "compiler", "Go",
                      "git commit"):
            if label not in machine:
                fail(f"the machine and versions lack {label}: {machine!r}")
        sections = driver.find_elements(By.CSS_SELECTOR, "section.scenario")
        if len(sections) != len(results["scenarios"]):
            fail(f"{len(sections)} sections for {len(results['scenarios'])} scenarios")
        for section, result in zip(sections, results["scenarios"]):
            name = section.find_element(By.TAG_NAME, "h2").text
            if name != result["scenario"]:
                fail(f"section {name!r} where {result['scenario']!r} was expected")
            charts = section.find_elements(By.CSS_SELECTOR, "svg.chart")
            if len(charts) != 1:
                fail(f"{name}: {len(charts)} charts")
            # Rendered as SVG (its own namespace, laid out with a size), one bar per line and
            # panel, and the tallest bar of each panel full height.
            size = driver.execute_script(
                "const r = arguments[0].getBoundingClientRect();"
                "return [arguments[0].namespaceURI, r.width, r.height];", charts[0])
            if size[0] != "http://www.w3.org/2000/svg" or size[1] <= 0 or size[2] <= 0:
                fail(f"{name}: the chart did not render as SVG: {size}")
            heights = driver.execute_script(
                "return Array.from(arguments[0].querySelectorAll('rect'))"
                ".map(r => r.getBBox().height);", charts[0])
            if len(heights) != 3 * len(result["lines"]):
                fail(f"{name}: {len(heights)} bars for {len(result['lines'])} lines")
            if sum(1 for h in heights if h > 0) < 3:
                fail(f"{name}: bars without height: {heights}")
        table = driver.find_element(By.CSS_SELECTOR, "table.figures").text
        for result in results["scenarios"]:
            for line in result["lines"]:
                if line["workload"] not in table:
                    fail(f"the table lacks {line['workload']}")
        severe = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]
        if severe:
            fail(f"browser console errors: {severe}")
    finally:
        driver.quit()


def main():
    if len(sys.argv) < 2:
        fail("usage: report_test.py path/to/etcdgrpc-bench [--expect-go]")
    bench, expect_go = sys.argv[1], "--expect-go" in sys.argv[2:]
    work = Path(tempfile.mkdtemp(prefix="bench-report-test-"))
    try:
        results_path = work / "results.json"
        run = subprocess.run([bench, "--scale=0.01", f"--results_json={results_path}", *SCENARIOS],
                             capture_output=True, text=True, timeout=300)
        sys.stdout.write(run.stdout)
        if run.returncode != 0:
            fail(f"the bench exited with {run.returncode}: {run.stderr[-2000:]}")
        results = json.loads(results_path.read_text())
        ran = [r["scenario"] for r in results["scenarios"]]
        if ran != SCENARIOS:
            fail(f"results for {ran}")
        for result in results["scenarios"]:
            peers = {line["peer"] for line in result["lines"]}
            if "etcd-grpc" not in peers:
                fail(f"{result['scenario']}: no line of ours")
            if expect_go and "go-clientv3" not in peers:
                fail(f"{result['scenario']}: no Go peer line")
        # Bad input: a JSON file that is not the bench's results is refused, not drawn.
        other = work / "other.json"
        other.write_text('{"scenarios": []}')
        refused = subprocess.run([sys.executable, str(MAKE_REPORT), str(other),
                                  str(work / "other.html")], capture_output=True, timeout=60)
        if refused.returncode == 0 or (work / "other.html").exists():
            fail("make_report.py drew a file that is not a results file")
        index = work / "report" / "index.html"
        subprocess.run([sys.executable, str(MAKE_REPORT), str(results_path), str(index)],
                       check=True, timeout=60)
        check_page(index, results)
        print(f"bench_report_test: ok ({len(SCENARIOS)} scenarios, charts rendered in Chromium)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
