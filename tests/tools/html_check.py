#!/usr/bin/env python3
"""html_check.py — load an HTML file in headless Chromium and say what it did.

usage: html_check.py CHROMIUM PAGE.html OUTDIR [SCREENSHOT.png]

Runs Chromium (--headless --no-sandbox --disable-gpu) on file://PAGE with
console logging on stderr and a network log, and prints one fact per line
on stdout for tests/integration/test_html.c to assert:
  console: TEXT      a console message (the report has no script, so any
                     message is an error: a script error, a resource that
                     failed to load, a CSP violation)
  request: URL       a request the page made (http, https, ws, ...): the
                     network log's URL_REQUEST_START_JOB events with a page
                     initiator. Chromium's own background requests (update
                     checks, clock sync) have no origin as initiator and are
                     not the page's doing, so they are left out.
  dom: N             bytes of the DOM after loading (--dump-dom, in
                     OUTDIR/dom.html)
  seconds: S         wall time of the DOM run, browser start included
  screenshot: PATH   written (second run, --screenshot), 1280 px wide
Exit status 0 when Chromium ran, 2 when it failed (stderr says why).
Only the Python standard library is used.
"""
import json
import os
import subprocess
import sys
import time

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu",
    # Fewer background requests and no first-run UI; page requests are
    # still made and logged.
    "--disable-background-networking", "--disable-component-update", "--no-first-run",
    "--disable-sync", "--disable-default-apps", "--disable-extensions", "--mute-audio",
]


def run(cmd, timeout):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


def page_requests(netlog_path):
    """URLs the page itself requested, from Chromium's --log-net-log JSON."""
    try:
        with open(netlog_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    # Chromium may be killed before it closes the JSON: close it ourselves.
    try:
        log = json.loads(text)
    except ValueError:
        try:
            log = json.loads(text.rstrip().rstrip(",") + "]}")
        except ValueError:
            return None
    types = {v: k for k, v in log.get("constants", {}).get("logEventTypes", {}).items()}
    urls = []
    for e in log.get("events", []):
        if types.get(e.get("type")) != "URL_REQUEST_START_JOB":
            continue
        p = e.get("params", {})
        url = p.get("url", "")
        if not url:
            continue  # the event's end: the start carried the parameters
        if url.startswith(("file:", "data:", "about:", "chrome:")):
            continue
        if p.get("initiator", "") == "not an origin" and "file://" not in p.get("network_isolation_key", ""):
            continue  # the browser's own request
        urls.append(url)
    return urls


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    chromium, page, outdir = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    shot = sys.argv[4] if len(sys.argv) == 5 else None
    os.makedirs(outdir, exist_ok=True)
    profile = os.path.join(outdir, "profile")
    netlog = os.path.join(outdir, "netlog.json")
    url = "file://" + page
    t0 = time.monotonic()
    try:
        r = run([chromium] + FLAGS + ["--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0",
                                      "--log-net-log=" + netlog, "--dump-dom", url], 60)
    except (OSError, subprocess.TimeoutExpired) as e:
        print("html_check: chromium did not run: %s" % e, file=sys.stderr)
        return 2
    seconds = time.monotonic() - t0
    err = r.stderr.decode("utf-8", "replace")
    with open(os.path.join(outdir, "chromium.log"), "w") as f:
        f.write(err)
    if r.returncode != 0 or not r.stdout:
        print("html_check: chromium exited %d: %s" % (r.returncode, err.strip()[-500:]), file=sys.stderr)
        return 2
    with open(os.path.join(outdir, "dom.html"), "wb") as f:
        f.write(r.stdout)
    for line in err.splitlines():
        if ":CONSOLE" in line:
            print("console: " + line.split("] ", 1)[-1])
    reqs = page_requests(netlog)
    if reqs is None:
        print("html_check: no readable network log at %s" % netlog, file=sys.stderr)
        return 2
    for u in reqs:
        print("request: " + u)
    print("dom: %d" % len(r.stdout))
    print("seconds: %.2f" % seconds)
    if shot:
        try:
            s = run([chromium] + FLAGS + ["--user-data-dir=" + profile, "--hide-scrollbars",
                                          "--window-size=1280,2000", "--screenshot=" + os.path.abspath(shot), url], 60)
        except (OSError, subprocess.TimeoutExpired) as e:
            print("html_check: screenshot failed: %s" % e, file=sys.stderr)
            return 2
        if s.returncode != 0 or not os.path.exists(shot):
            print("html_check: screenshot failed: %s" % s.stderr.decode("utf-8", "replace")[-500:], file=sys.stderr)
            return 2
        print("screenshot: " + shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
