#!/usr/bin/env python3
"""Drives hornet's web UI in headless Chromium (Selenium + chromedriver) as a Locust user would:
the start form, the live table and charts, a new user count mid-run (the workers' counts
follow), the CSV download, stop, the history tab (two runs compared, a report opened), a New
test on the same workers, and a screenshot.
Usage: ui_browser.py URL SCREENSHOT.png PROFILE_DIR DOWNLOAD_DIR    Exit 0, or 1 with the reason.
"""
import json
import os
import sys
import time
import urllib.request

from selenium.webdriver.common.by import By

import chromium


def wait(what, cond, limit=30.0):
    """Polls cond() until it is truthy (returns it) or the limit passes (AssertionError)."""
    end = time.time() + limit
    last = None
    while time.time() < end:
        try:
            last = cond()
            if last:
                return last
        except Exception as e:  # the page may be between renders
            last = e
        time.sleep(0.2)
    raise AssertionError("%s: not within %.0f s (last: %r)" % (what, limit, last))


def api(url, path):
    with urllib.request.urlopen(url + path, timeout=5) as r:
        return json.loads(r.read())


def main():
    url, shot, profile, downloads = sys.argv[1:5]
    drv = chromium.start(profile, 1300, 1000, downloads)
    by_id = lambda i: drv.find_element(By.ID, i)
    text = lambda i: by_id(i).text

    def type_in(field, value):
        by_id(field).clear()
        by_id(field).send_keys(value)
    try:
        drv.get(url)
        # the start form, filled from the command line's -u/-r/-H
        wait("the start form", lambda: by_id("start-panel").is_displayed())
        assert text("state") == "READY", text("state")
        classes = wait("the class picker", lambda: drv.find_elements(By.CSS_SELECTOR, ".class-on"))
        print("# classes in the form:", [c.get_attribute("value") for c in classes])
        assert api(url, "/stats/requests")["state"] == "ready"
        type_in("users", "4")
        type_in("spawn-rate", "50")
        by_id("start-button").click()
        wait("running", lambda: text("state") == "RUNNING")
        assert not by_id("start-panel").is_displayed(), "the form stays after the start"
        wait("4 users", lambda: text("user-count") == "4")

        def aggregated():
            cells = drv.find_elements(By.CSS_SELECTOR, "#stats-table tr.total td")
            return int(cells[2].text) if cells else 0
        first = wait("requests in the table", aggregated)
        wait("the table updates", lambda: aggregated() > first)
        rows = drv.find_elements(By.CSS_SELECTOR, "#stats-table tbody tr")
        assert len(rows) >= 2, "no per-row lines"
        print("# table rows:", len(rows), "; Aggregated went", first, "->", aggregated())
        # the charts draw and grow as points arrive
        by_id("tab-charts").click()
        wait("the charts", lambda: drv.find_elements(By.CSS_SELECTOR, "#chart-rps canvas"))
        n0 = drv.execute_script("return points.length")
        wait("chart points arrive", lambda: drv.execute_script("return points.length") > n0)
        for c in ("chart-latency", "chart-users", "chart-row"):
            assert drv.find_elements(By.CSS_SELECTOR, "#%s canvas" % c), c + " not drawn"
        # a new user count mid-run: the workers' counts follow
        by_id("edit-button").click()
        type_in("edit-users", "8")
        by_id("edit-submit").click()
        wait("8 users", lambda: text("user-count") == "8")
        by_id("tab-workers").click()

        def worker_users():
            cells = drv.find_elements(By.CSS_SELECTOR, "#workers-table tbody tr")
            return sum(int(r.find_elements(By.TAG_NAME, "td")[2].text) for r in cells)
        wait("the workers' users add up to 8", lambda: worker_users() == 8)
        per = [w["user_count"] for w in api(url, "/stats/requests")["workers"]]
        print("# users per worker after the change:", per)
        assert sum(per) == 8 and len(per) == 2, per
        wait("a marker where the load changed",
             lambda: drv.execute_script("return markers.some(function(m){"
                                        "return m.text.indexOf('8 users') >= 0;})"))
        by_id("tab-stats").click()
        time.sleep(1.2)
        drv.save_screenshot(shot.replace(".png", "_stats.png"))
        by_id("tab-charts").click()
        time.sleep(1.2)
        drv.save_screenshot(shot)
        print("# screenshots:", shot, shot.replace(".png", "_stats.png"))
        # the CSV download, as a click
        by_id("tab-downloads").click()
        by_id("download-csv").click()
        path = os.path.join(downloads, "requests.csv")
        wait("the CSV download", lambda: os.path.exists(path) and os.path.getsize(path) > 0)
        head = open(path, newline="").readline()
        assert head.startswith('"Type","Name","Request Count"') or \
            head.startswith("Type,Name,Request Count"), head
        # stop: the run ends; its report is then served
        by_id("stop-button").click()
        wait("stopped", lambda: text("state") == "STOPPED")
        wait("the end banner", lambda: "The test is over" in text("banner"))
        with urllib.request.urlopen(url + "/stats/report", timeout=10) as r:
            html = r.read().decode()
        assert "<h1>hornet run" in html, html[:200]
        # history: this run and the earlier one, compared; a report opened
        by_id("tab-history").click()
        picks = wait("two runs listed",
                     lambda: (lambda p: p if len(p) >= 2 else None)(
                         drv.find_elements(By.CSS_SELECTOR, ".run-pick")))
        picks[0].click()
        picks[1].click()
        by_id("compare-button").click()
        verdict = wait("the comparison", lambda: text("compare-result"))
        print("# compare:", verdict.splitlines()[0])
        assert "against baseline" in verdict, verdict
        link = drv.find_element(By.CSS_SELECTOR, "#history-table a").get_attribute("href")
        with urllib.request.urlopen(link, timeout=10) as r:
            assert b"<h1>hornet run" in r.read(), link
        print("# history report:", link)
        # New test, as in Locust: the same workers, the form filled with the last test's load
        pids = sorted(w["id"] for w in api(url, "/stats/requests")["workers"])
        by_id("new-test-button").click()
        wait("the form again", lambda: by_id("start-panel").is_displayed())
        assert by_id("users").get_attribute("value") == "8", by_id("users").get_attribute("value")
        type_in("users", "2")
        type_in("run-time", "5s")
        by_id("start-button").click()
        wait("the next test runs", lambda: text("state") in ("RUNNING", "SPAWNING"))
        wait("2 users", lambda: text("user-count") == "2")
        assert drv.execute_script("return points.length") <= 3, "the charts did not start over"
        assert sorted(w["id"] for w in api(url, "/stats/requests")["workers"]) == pids
        wait("the next test ends by its run time", lambda: text("state") == "STOPPED")
        wait("New test offered again", lambda: by_id("new-test-button").is_displayed())
        print("# New test: 2 users for 5 s on the same workers", pids)
        return 0
    except AssertionError as e:
        print("FAIL:", e)
        try:
            drv.save_screenshot(shot)
        except Exception:
            pass
        return 1
    finally:
        drv.quit()


if __name__ == "__main__":
    sys.exit(main())
