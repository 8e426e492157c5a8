"""Headless Debian Chromium under Selenium, set up one way for every browser test: no network
of its own (no sync, updates or QUIC), a profile in the test's folder, a fixed window size, and
downloads (when asked) into a folder without a prompt."""
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service


def start(profile, width, height, downloads=None):
    opts = Options()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--window-size=%d,%d" % (width, height), "--user-data-dir=" + profile):
        opts.add_argument(a)
    if downloads:
        opts.add_experimental_option("prefs", {"download.default_directory": downloads,
                                               "download.prompt_for_download": False})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
