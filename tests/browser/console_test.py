#!/usr/bin/python3
"""Drives the officers' console in headless Chromium (Debian's chromium,
chromium-driver and python3-selenium) against a real muster-server on
loopback, as tests/e2e/test_console.sh sets it up.  Prints TAP lines
("ok - NAME", without numbers or a plan: the shell script numbers them) and exits 0 even when a
check fails; a crash of the driver itself is reported as one failure.

Arguments (environment): CONSOLE_URL (https://127.0.0.1:PORT),
CONSOLE_TOKEN_FILE (the admin token), CONSOLE_REPORT_DIR (JSON of
`muster-server report --by X --format json` as by-X.json), CONSOLE_ARTIFACTS
(where screenshots and downloads go), CONSOLE_HOSTILE (the hostile model
string as stored), AXE_JS (axe.min.js, or empty to skip).
"""
import csv
import io
import json
import os
import sys
import time
import traceback

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

N = 0


def ok(cond, name, detail=""):
    global N
    N += 1
    if cond:
        print("ok - %s" % name)
    else:
        print("not ok - %s" % name)
        for line in str(detail).splitlines()[:20]:
            print("# " + line)
    sys.stdout.flush()
    return cond


URL = os.environ["CONSOLE_URL"]
TOKEN = open(os.environ["CONSOLE_TOKEN_FILE"]).read().strip()
REPORTS = os.environ["CONSOLE_REPORT_DIR"]
ART = os.environ["CONSOLE_ARTIFACTS"]
HOSTILE = os.environ["CONSOLE_HOSTILE"]
AXE = os.environ.get("AXE_JS", "")
DOWNLOADS = os.path.join(ART, "downloads")
os.makedirs(DOWNLOADS, exist_ok=True)

PAGES = [
    ("overview", "/console/"),
    ("units", "/console/units"),
    ("rules", "/console/rules"),
    ("models", "/console/models"),
    ("devices", "/console/devices"),
    ("family", "/console/family"),
    ("profiles", "/console/profiles"),
]


def driver(javascript=True):
    o = Options()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--ignore-certificate-errors",
              "--window-size=1280,1000", "--no-first-run",
              "--disable-extensions", "--disable-background-networking",
              "--disable-component-update", "--disable-sync",
              "--user-data-dir=" + os.path.join(
                  ART, "profile-js" if javascript else "profile-nojs")):
        o.add_argument(a)
    prefs = {"download.default_directory": DOWNLOADS,
             "download.prompt_for_download": False}
    if not javascript:
        prefs["profile.managed_default_content_settings.javascript"] = 2
    o.add_experimental_option("prefs", prefs)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    d.set_page_load_timeout(30)
    return d


def wait_url(d, suffix, secs=10):
    """Waits (bounded) for a navigation a click started to land."""
    for _ in range(secs * 20):
        if d.current_url.rstrip("/").endswith(suffix.rstrip("/")):
            return True
        time.sleep(0.05)
    return False


def report(by):
    with open(os.path.join(REPORTS, "by-%s.json" % by)) as f:
        return json.load(f)


def sign_in(d):
    d.get(URL + "/console/")
    ok(d.current_url.endswith("/console/signin"),
       "an unsigned browser is sent to the sign-in page", d.current_url)
    box = d.find_element(By.ID, "token")
    ok(box.get_attribute("type") == "password",
       "the credential box is a password field")
    form = d.find_element(By.CSS_SELECTOR, "form.signin")
    ok(form.get_attribute("method") == "post",
       "the sign-in form posts (no credential in a URL)")
    box.send_keys(TOKEN)
    form.find_element(By.CSS_SELECTOR, "button").click()
    ok(wait_url(d, "/console/"),
       "signed in: the overview", d.current_url)
    ok(TOKEN not in d.current_url, "the credential is in no URL")
    cookies = {c["name"]: c for c in d.get_cookies()}
    c = cookies.get("muster_console")
    ok(c is not None and c.get("httpOnly") and c.get("secure") and
       c.get("sameSite") == "Strict" and c.get("path") == "/console",
       "session cookie HttpOnly, Secure, SameSite=Strict, Path=/console",
       c)


def text_of(d, css):
    return d.find_element(By.CSS_SELECTOR, css).text.strip()


def num(s):
    return int(s.replace("*", "").strip())


def check_overview(d):
    d.get(URL + "/console/")
    tot = report("scope")["total"]
    for k in ("devices", "compliant", "noncompliant", "stale", "never"):
        got = text_of(d, "#f-" + k)
        ok(got == str(tot[k]), "overview %s = report's %d" % (k, tot[k]),
           "page says %s" % got)
    rows = d.find_elements(By.CSS_SELECTOR, "#t-scope tbody tr")
    want = {g["scope"]: g for g in report("scope")["groups"]}
    for r in rows:
        scope = r.find_element(By.CSS_SELECTOR, "th").text.strip()
        cells = [c.text for c in r.find_elements(By.CSS_SELECTOR, "td")]
        g = want.get(scope)
        if g is None:
            ok(False, "overview scope row %s is in the report" % scope)
            continue
        if g["devices"] == 0 and g["family_withheld"]:
            ok(cells[0] == "<5", "scope %s withheld shows <5" % scope)
        else:
            ok([num(x) for x in cells[:5]] ==
               [g["devices"], g["compliant"], g["noncompliant"], g["stale"],
                g["never"]],
               "overview scope %s row = report --by scope" % scope,
               "%s vs %s" % (cells, g))
    svg = d.find_elements(By.CSS_SELECTOR, "svg.chart")
    ok(len(svg) == 1, "the trend is an inline SVG chart")
    # Its past points are read from history behind the first page.
    for _ in range(100):
        if not d.find_elements(By.ID, "trend-pending"):
            break
        time.sleep(0.1)
        d.get(URL + "/console/")
    ok(not d.find_elements(By.ID, "trend-pending"),
       "the trend's past points are all in after a reload")
    desc = d.execute_script(
        "return document.querySelector('svg.chart desc').textContent")
    ok(desc.count(":") == 14, "the trend has 14 points (13 weeks and now)",
       desc)


def check_units(d):
    d.get(URL + "/console/units")
    units = report("unit")
    # The top level rolls up everything below it.
    tops = {}
    for g in units["groups"]:
        t = g["unit"].split("/")[0]
        tops.setdefault(t, 0)
        tops[t] += g["devices"]
    rows = d.find_elements(By.CSS_SELECTOR, "#t-units tbody tr")
    seen = {}
    for r in rows:
        th = r.find_element(By.CSS_SELECTOR, "th")
        name = th.text.replace("devices", "").strip()
        seen[name] = num(r.find_elements(By.CSS_SELECTOR, "td")[0].text)
    ok(seen == tops, "units: top level rolls up its subtree", "%s vs %s" %
       (seen, tops))
    # Drill down, level by level, to a leaf with a space and UTF-8 in it.
    path = []
    for _ in range(4):
        links = d.find_elements(By.CSS_SELECTOR, "#t-units a.drill")
        if not links:
            break
        target = sorted(links, key=lambda a: a.text)[0]
        path.append(target.text)
        target.click()
    ok(len(path) >= 2, "drilled down %d levels: %s" % (len(path),
                                                         "/".join(path)))
    here = "/".join(path)
    want = sum(g["devices"] for g in units["groups"]
               if g["unit"] == here or g["unit"].startswith(here + "/"))
    foot = d.find_elements(By.CSS_SELECTOR, "#t-units tfoot td")[0].text
    ok(num(foot) == want, "drill-down total of %s = report's %d" %
       (here, want), foot)
    crumbs = [a.text for a in d.find_elements(By.CSS_SELECTOR,
                                               ".crumbs a")]
    ok(crumbs[1:] == path, "breadcrumbs name every level", crumbs)


def check_rules(d):
    d.get(URL + "/console/rules")
    want = {r["rule"]: r for r in report("rule")["rules"]}
    rows = d.find_elements(By.CSS_SELECTOR, "#t-rules tbody tr")
    got = {}
    for r in rows:
        rid = r.find_element(By.CSS_SELECTOR, "th").text.strip()
        tds = r.find_elements(By.CSS_SELECTOR, "td")
        got[rid] = (num(tds[2].text), num(tds[3].text))
    ok(got == {k: (v["devices"], v["failing"]) for k, v in want.items()},
       "rules: devices and failing per rule = report --by rule",
       "%s vs %s" % (got, want))


def check_models(d):
    d.get(URL + "/console/models")
    names = [th.text.replace("Redmi 1S", "").strip() for th in
             d.find_elements(By.CSS_SELECTOR, "#t-models tbody th")]
    want = [g["model"] for g in report("model")["groups"]]
    ok(sorted(names) == sorted(want), "models: the report's models",
       "%s vs %s" % (names, want))
    ok(HOSTILE in names, "the hostile model is shown as its text",
       names)
    ok(len(d.find_elements(By.TAG_NAME, "script")) == 0,
       "no script element on the page (<script> in a model is text)")
    alerts = d.execute_script("return typeof window.__pwned")
    ok(alerts == "undefined", "nothing from the model ran")
    ok(len(d.find_elements(By.CSS_SELECTOR,
                           "a[href*='evil.example']")) == 0,
       "=HYPERLINK(...) made no link")


def check_devices(d):
    d.get(URL + "/console/devices")
    rows = d.find_elements(By.CSS_SELECTOR, "#t-devices tbody tr")
    ok(len(rows) > 0, "devices: %d personnel devices listed" % len(rows))
    first = rows[0].find_element(By.CSS_SELECTOR, "td.id a")
    first.click()
    items = d.find_elements(By.CSS_SELECTOR, "ol.timeline li")
    ok(len(items) >= 1, "a device's history: %d status changes" %
       len(items))
    pre = d.find_elements(By.CSS_SELECTOR, "ol.timeline details pre")
    if pre:
        body = d.execute_script("return arguments[0].textContent", pre[0])
        try:
            j = json.loads(body)
            ok("seq" in j and "results" in j,
               "the signed report that caused it is shown, exactly")
        except ValueError as ex:
            ok(False, "the signed report parses as JSON", ex)
    # Filter: the follow-up list of non-compliant devices.
    d.get(URL + "/console/devices?status=noncompliant")
    sts = [td.text for td in d.find_elements(By.CSS_SELECTOR,
                                             "#t-devices tbody td[class^=st-]")]
    ok(all(s.startswith("noncompliant") for s in sts),
       "status filter: only non-compliant devices (%d)" % len(sts), sts)


def check_family(d):
    d.get(URL + "/console/family")
    fam = [g for g in report("scope")["groups"] if g["scope"] == "family"][0]
    cells = [c.text for c in d.find_elements(By.CSS_SELECTOR,
                                             "#t-family tbody td")]
    ok(num(cells[0]) == fam["family"], "family: the organisation's "
       "counted family devices = report's %d" % fam["family"], cells)
    ok(len(cells) == 4 and (cells[2] == "withheld" or "%" in cells[2]),
       "family: compliance only as an estimate, or withheld", cells)
    src = d.page_source
    for g in report("unit")["groups"]:
        if g["family_withheld"]:
            ok(g["unit"] not in src,
               "family page names no unit below k (%s)" % g["unit"])


def download_csv(d):
    for f in os.listdir(DOWNLOADS):
        os.unlink(os.path.join(DOWNLOADS, f))
    d.execute_cdp_cmd("Browser.setDownloadBehavior",
                      {"behavior": "allow", "downloadPath": DOWNLOADS})
    d.get(URL + "/console/models")
    link = [a for a in d.find_elements(By.CSS_SELECTOR, "p.dl a")
            if a.text == "CSV"][0]
    link.click()
    path = os.path.join(DOWNLOADS, "muster-model.csv")
    for _ in range(100):
        if os.path.exists(path):
            break
        time.sleep(0.1)
    if not ok(os.path.exists(path), "the models CSV downloads", os.listdir(
            DOWNLOADS)):
        return
    raw = open(path, newline="").read()
    rows = list(csv.reader(io.StringIO(raw)))
    ok(rows[0][0] == "model" and rows[0][1] == "devices",
       "the CSV parses, with its header", rows[0])
    want = report("model")
    body = {r[0]: r for r in rows[1:-1]}
    ok(len(body) == len(want["groups"]),
       "the CSV has the report's %d models" % len(want["groups"]))
    cells = [r[0] for r in rows[1:]]
    ok(not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells),
       "no CSV cell starts a formula", cells)
    hostile = [c for c in cells if HOSTILE in c]
    ok(len(hostile) == 1 and hostile[0].startswith("'"),
       "the hostile model is written as text ('=...)", hostile)
    tot = rows[-1]
    ok(tot[0] == "" and int(tot[1]) == want["total"]["devices"],
       "the CSV total = report's", tot)


def check_csp_log(d, name):
    logs = d.get_log("browser")
    bad = [l["message"] for l in logs
           if "Content Security Policy" in l["message"] or
           "Refused to" in l["message"]]
    ok(not bad, "%s: no Content-Security-Policy violation in the "
       "console log" % name, "\n".join(bad))
    errors = [l["message"] for l in logs if l["level"] == "SEVERE"]
    ok(not errors, "%s: no error in the console log" % name,
       "\n".join(errors))


def axe_check(d, name):
    if not AXE:
        ok(True, "# SKIP axe-core not available")
        return
    src = open(AXE).read()
    d.execute_script(src)
    res = d.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(function (r) { done(r.violations.map(function (v) {"
        "return [v.id, v.impact, v.nodes.length, v.help]; })); })"
        ".catch(function (e) { done([['error', 'critical', 0, "
        "String(e)]]); });")
    bad = [v for v in res if v[1] in ("serious", "critical")]
    ok(not bad, "%s: axe-core finds no serious or critical violation" %
       name, "\n".join(str(v) for v in res))


def walk(d):
    for name, path in PAGES:
        d.get(URL + path)
        ok(d.find_element(By.TAG_NAME, "h1").text != "",
           "page %s renders" % name)
        ok(d.find_elements(By.CSS_SELECTOR, "p.asof time") != [],
           "page %s says as of when" % name)
        shot = os.path.join(ART, "console-%s.png" % name)
        d.save_screenshot(shot)
        print("# screenshot: " + shot)
        check_csp_log(d, name)
        axe_check(d, name)


def no_js():
    d = driver(javascript=False)
    try:
        sign_in(d)
        for name, path in PAGES:
            d.get(URL + path)
            ok(d.find_element(By.TAG_NAME, "h1").text != "" and
               "signin" not in d.current_url,
               "JavaScript off: %s works" % name)
        d.get(URL + "/console/units")
        link = d.find_elements(By.CSS_SELECTOR, "#t-units a.drill")
        if link:
            link[0].click()
        ok("/console/units?u=" in d.current_url,
           "JavaScript off: drill-down works", d.current_url)
        d.find_element(By.CSS_SELECTOR, "form.signout button").click()
        ok(wait_url(d, "/console/signin"),
           "JavaScript off: sign-out works", d.current_url)
        d.get(URL + "/console/rules")
        ok(d.current_url.endswith("/console/signin"),
           "after sign-out the session is gone", d.current_url)
    finally:
        d.quit()


def main():
    d = driver()
    try:
        sign_in(d)
        walk(d)
        check_overview(d)
        check_units(d)
        check_rules(d)
        check_models(d)
        check_devices(d)
        check_family(d)
        download_csv(d)
        # The printable page: the print style hides the navigation.
        d.get(URL + "/console/")
        pdf = d.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
        out = os.path.join(ART, "console-overview.pdf")
        with open(out, "wb") as f:
            import base64
            f.write(base64.b64decode(pdf["data"]))
        ok(os.path.getsize(out) > 1000, "the overview prints (%s)" % out)
        check_csp_log(d, "after the walk")
    finally:
        d.quit()
    no_js()


if __name__ == "__main__":
    try:
        main()
    except Exception:
        ok(False, "the browser test ran to its end", traceback.format_exc())
    sys.exit(0)
