#!/usr/bin/env python3
"""html_check.py — load an HTML file in a headless browser and say what it did.

usage: html_check.py CHROMIUM PAGE.html OUTDIR [SCREENSHOT.png]
       html_check.py --firefox FIREFOX PAGE.html OUTDIR SCREENSHOT.png
       html_check.py --png SCREENSHOT.png
       html_check.py --timing CHROMIUM PAGE.html OUTDIR [REPS]

Chromium (--headless --no-sandbox --disable-gpu) loads file://PAGE with
console logging on stderr and a network log; one fact per line on stdout
for tests/integration/test_html.c to assert:
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
  screenshot: PATH   written (second run, --screenshot), 1280 x 2000 px
  png: W H INK       the screenshot's size and the share of its first 500
                     rows that is not white (0..1): a blank page has 0
Firefox (--headless --screenshot, a fresh profile in OUTDIR/ff-profile):
the same console:, seconds:, screenshot: and png: lines; console: lines are
the script errors and warnings Firefox reports for the page's own file and
the page's console calls (requests are not logged: Chromium's run checks
those).
--png prints the png: line of an existing file.
--timing (tests/bench/html.sh) loads the page REPS times (default 3) in
one Chromium driven over the DevTools protocol (--remote-debugging-pipe)
after a warm-up load of an empty page, and prints per load
  timing: DCL LOAD FCP NODES WALL
DOMContentLoaded end, load event end and first contentful paint in ms
since navigation start as the browser measured them (read by the driver:
the page has no script), the number of elements, and the wall time in ms
from the navigation command to the load event.
Exit status 0 when the browser ran, 2 when it failed (stderr says why).
Only the Python standard library is used.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib

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


SHOT_W, SHOT_H = 1280, 2000
INK_ROWS = 500  # rows of a screenshot decoded for png_ink: the first screen


def png_ink(path):
    """(width, height, ink) of an 8-bit RGB or RGBA PNG: ink is the share of
    pixels in the first INK_ROWS rows with a channel below 240. Raises
    ValueError for anything else (not a PNG, truncated, another format)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, [], None
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if len(body) != n:
            raise ValueError("truncated chunk")
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    if not hdr or not idat:
        raise ValueError("no IHDR or IDAT")
    w, h, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("not 8-bit RGB(A) without interlace: depth %d type %d" % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    stride = w * bpp
    raw = zlib.decompress(b"".join(idat))
    if len(raw) != h * (stride + 1):
        raise ValueError("image data is %d bytes, not %d" % (len(raw), h * (stride + 1)))
    prev = bytearray(stride)
    inked = 0
    rows = min(h, INK_ROWS)
    for y in range(rows):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        elif f != 0:
            raise ValueError("bad filter %d in row %d" % (f, y))
        for x in range(0, stride, bpp):
            if line[x] < 240 or line[x + 1] < 240 or line[x + 2] < 240:
                inked += 1
        prev = line
    return w, h, inked / float(w * rows)


def print_png(path):
    try:
        w, h, ink = png_ink(path)
    except (OSError, ValueError, zlib.error) as e:
        print("html_check: %s: %s" % (path, e), file=sys.stderr)
        return 2
    print("png: %d %d %.4f" % (w, h, ink))
    return 0


# Firefox: no first-run pages, no update or telemetry traffic (it would
# only slow the start).
FF_PREFS = {
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "app.update.auto": False,
    "extensions.update.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "app.normandy.enabled": False,
    # What we read: script errors on stderr ("JavaScript error: URL, line N:
    # ...") and the page's console calls on stdout ("console.log: ...").
    "browser.dom.window.dump.enabled": True,
    "devtools.console.stdout.content": True,
}

# A console line of the page's own: "console.error: VALUE". Firefox's own
# modules write "console.error: module.name: ..." and are not the page's.
FF_CONSOLE = re.compile(r"^console\.(log|info|warn|error|debug): (?![\w.-]+: )(.*)")


def firefox(browser, page, outdir, shot):
    profile = os.path.join(outdir, "ff-profile")
    shutil.rmtree(profile, ignore_errors=True)
    os.makedirs(profile)
    with open(os.path.join(profile, "user.js"), "w") as f:
        for k, v in FF_PREFS.items():
            f.write("user_pref(%s, %s);\n" % (json.dumps(k), json.dumps(v)))
    shot = os.path.abspath(shot)
    if os.path.exists(shot):
        os.unlink(shot)
    url = "file://" + page
    t0 = time.monotonic()
    try:
        r = run([browser, "--headless", "-no-remote", "-profile", profile, "--window-size=%d,%d" % (SHOT_W, SHOT_H),
                 "--screenshot", shot, url], 60)
    except (OSError, subprocess.TimeoutExpired) as e:
        print("html_check: firefox did not run: %s" % e, file=sys.stderr)
        return 2
    seconds = time.monotonic() - t0
    err = r.stderr.decode("utf-8", "replace") + r.stdout.decode("utf-8", "replace")
    with open(os.path.join(outdir, "firefox.log"), "w") as f:
        f.write(err)
    if r.returncode != 0 or not os.path.exists(shot):
        print("html_check: firefox exited %d: %s" % (r.returncode, err.strip()[-500:]), file=sys.stderr)
        return 2
    # "JavaScript error: file:///.../page.html, line 1: ReferenceError: ..."
    for line in err.splitlines():
        m = FF_CONSOLE.match(line)
        if m:
            print("console: " + m.group(2))
        for kind in ("JavaScript error: ", "JavaScript warning: "):
            if line.startswith(kind + url):
                print("console: " + line.split(", ", 1)[1].split(": ", 1)[-1])
    print("seconds: %.2f" % seconds)
    print("screenshot: " + shot)
    return print_png(shot)


class Cdp:
    """Chromium's DevTools protocol over --remote-debugging-pipe (fd 3 in,
    fd 4 out, messages of JSON ended by a NUL byte): enough to open a
    page, wait for its load event and read what the browser measured."""

    def __init__(self, chromium, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def fds():
            # Through fresh copies: a pipe end that already is 3 or 4 would
            # keep its close-on-exec flag under dup2 onto itself.
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen([chromium] + FLAGS + ["--user-data-dir=" + profile, "--remote-debugging-pipe",
                                                          "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     close_fds=False, preexec_fn=fds)  # subprocess would close 3 and 4 after fds()
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read(self, deadline):
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.from_chrome, 65536)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            for i, m in enumerate(self.events):
                if m.get("method") == method:
                    del self.events[: i + 1]
                    return m
            self.events.append(self._read(deadline))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)


# What the browser measured, read from the page by the driver (the page
# itself has no script): navigation timing and the first contentful paint,
# in ms since navigation start.
TIMING_JS = """JSON.stringify((() => {
  const n = performance.getEntriesByType('navigation')[0];
  const p = performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint');
  return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, fcp: p ? p.startTime : -1,
          nodes: document.getElementsByTagName('*').length};
})())"""


def timing(chromium, page, outdir, reps):
    """Load page reps times in one browser (after a warm-up load of an
    empty page) and print per load: timing: DCL_MS LOAD_MS FCP_MS NODES
    WALL_MS, WALL being Page.navigate to the load event as the driver saw it."""
    profile = os.path.join(outdir, "profile-cdp")
    shutil.rmtree(profile, ignore_errors=True)
    empty = os.path.join(outdir, "empty.html")
    with open(empty, "w") as f:
        f.write("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>empty</title></head><body></body></html>\n")
    try:
        c = Cdp(chromium, profile)
    except OSError as e:
        print("html_check: chromium did not run: %s" % e, file=sys.stderr)
        return 2
    try:
        # Headless Chromium's first paint comes late without a real
        # compositor; the deadline makes it settle on one.
        tid = next(t["targetId"] for t in c.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        sid = c.call("Target.attachToTarget", {"targetId": tid, "flatten": True})["sessionId"]
        c.call("Page.enable", session=sid)
        c.call("Runtime.enable", session=sid)
        for k, url in enumerate(["file://" + empty] + ["file://" + page] * reps):
            t0 = time.monotonic()
            c.call("Page.navigate", {"url": url}, session=sid)
            c.wait_event("Page.loadEventFired")
            wall = (time.monotonic() - t0) * 1000
            # FCP is reported a frame or so after load: give it a moment.
            for _ in range(50):
                r = c.call("Runtime.evaluate", {"expression": TIMING_JS, "returnByValue": True}, session=sid)
                v = json.loads(r["result"]["value"])
                if v["fcp"] >= 0:
                    break
                time.sleep(0.02)
            for m in c.events:
                if m.get("method") == "Runtime.exceptionThrown" or (
                        m.get("method") == "Runtime.consoleAPICalled"):
                    print("console: %s" % json.dumps(m.get("params", {}))[:300])
            c.events = []
            if k > 0:
                print("timing: %.1f %.1f %.1f %d %.1f" % (v["dcl"], v["load"], v["fcp"], v["nodes"], wall))
    except (RuntimeError, TimeoutError, EOFError, StopIteration, KeyError, ValueError) as e:
        print("html_check: devtools: %s" % e, file=sys.stderr)
        c.close()
        return 2
    c.close()
    return 0


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--png":
        return print_png(args[1])
    if len(args) in (4, 5) and args[0] == "--timing":
        os.makedirs(args[3], exist_ok=True)
        return timing(args[1], os.path.abspath(args[2]), args[3], int(args[4]) if len(args) == 5 else 3)
    if len(args) == 5 and args[0] == "--firefox":
        os.makedirs(args[3], exist_ok=True)
        return firefox(args[1], os.path.abspath(args[2]), args[3], args[4])
    if len(args) not in (3, 4):
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
                                          "--window-size=%d,%d" % (SHOT_W, SHOT_H), "--screenshot=" + os.path.abspath(shot), url], 60)
        except (OSError, subprocess.TimeoutExpired) as e:
            print("html_check: screenshot failed: %s" % e, file=sys.stderr)
            return 2
        if s.returncode != 0 or not os.path.exists(shot):
            print("html_check: screenshot failed: %s" % s.stderr.decode("utf-8", "replace")[-500:], file=sys.stderr)
            return 2
        print("screenshot: " + shot)
        return print_png(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
