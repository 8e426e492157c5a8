#!/usr/bin/env python3
"""Opens a hornet HTML report in headless Chromium (Selenium + chromedriver) as a reader would:
the charts are drawn, hovering shows the values under the pointer, dragging zooms, the row
picker switches the latency chart, and a screenshot is saved.
Usage: report_browser.py REPORT.html SCREENSHOT.png PROFILE_DIR    Exit 0 or 1 with the reason.
"""
import os
import sys
import time

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import chromium


def main():
    report, shot, profile = sys.argv[1:4]
    drv = chromium.start(profile, 1200, 1600)
    try:
        drv.get("file://" + os.path.abspath(report))
        for _ in range(50):
            if drv.execute_script("return !!(window.HN_CHARTS && HN_CHARTS.rates)"):
                break
            time.sleep(0.1)
        drawn = drv.execute_script(
            "return Object.keys(HN_CHARTS).filter(function(k){return !!HN_CHARTS[k];})")
        assert sorted(drawn) == ["pct", "rates", "row", "users"], drawn
        assert not drv.find_element(By.ID, "static-charts").is_displayed(), "static charts shown"
        # hover the middle of the rates chart: the legend shows that second's values
        area = drv.find_element(By.ID, "chart-rates")
        # above the range selector at the chart's foot: the plot itself
        ActionChains(drv).move_to_element_with_offset(area, 0, -40).perform()
        time.sleep(0.3)
        legend = area.find_element(By.CLASS_NAME, "dygraph-legend").text
        assert "requests/s:" in legend and any(c.isdigit() for c in legend), legend
        print("# hover legend:", legend.replace("\n", " "))
        # drag across a third of the chart: it zooms
        w = area.size["width"]
        ActionChains(drv).move_to_element_with_offset(area, -w // 6, -40).click_and_hold() \
            .move_by_offset(w // 3, 0).release().perform()
        time.sleep(0.3)
        assert drv.execute_script("return HN_CHARTS.rates.isZoomed('x')"), "no zoom"
        # the row picker: another row's points in the latency chart
        pick = Select(drv.find_element(By.ID, "row-pick"))
        options = [o.text for o in pick.options]
        assert options, "no rows to pick"
        first = drv.execute_script("return HN_CHARTS.row.numRows()")
        assert first > 0, "the row chart has no points"
        pick.select_by_index(len(options) - 1)
        time.sleep(0.2)
        label = drv.execute_script("return document.getElementById('row-pick').value")
        assert label == options[-1], (label, options)
        print("# rows:", options, "; points:", first, "->",
              drv.execute_script("return HN_CHARTS.row.numRows()"))
        drv.save_screenshot(shot)
        assert os.path.getsize(shot) > 20000, "screenshot too small"
    finally:
        drv.quit()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print("report_browser: %s" % e)
        sys.exit(1)
