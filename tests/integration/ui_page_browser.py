#!/usr/bin/python3
# Drives the `etcdgrpc ui` page in headless Chromium (Selenium), for ui_test.cc:
# the page lists the services, a registration made meanwhile appears without a
# reload, a deregistration disappears, with etcd stopped the page says stale and
# keeps the last state (also when opened then), and it is live again once etcd
# is back. Actions on etcd are asked of the test on stdout ("DO <action>"); the
# test answers by creating <control-dir>/done-<n>. Every wait is bounded.
import argparse
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT_S = 20


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--control-dir", required=True)
    parser.add_argument("--screenshot", default="")
    args = parser.parse_args()

    asked = [0]

    def ask(action):
        asked[0] += 1
        print(f"DO {asked[0]} {action}", flush=True)
        done = os.path.join(args.control_dir, f"done-{asked[0]}")
        deadline = time.monotonic() + 60
        while not os.path.exists(done):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the test did not do: {action}")
            time.sleep(0.05)

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        wait = WebDriverWait(driver, WAIT_S)

        def present(selector):
            return lambda d: d.find_elements(By.CSS_SELECTOR, selector)

        def absent(selector):
            return lambda d: not d.find_elements(By.CSS_SELECTOR, selector)

        def status_is(text):
            return lambda d: d.find_element(By.ID, "status").text.strip().lower() == text

        def check(condition, what):
            try:
                wait.until(condition)
            except Exception as error:  # selenium's TimeoutException; say what was waited for
                raise AssertionError(f"{what}; page text:\n{driver.find_element(By.TAG_NAME, 'body').text}") from error

        driver.get(args.url)
        check(present('[data-instance="alpha/a1"]'), "the registered service is listed")
        check(status_is("live"), "the page says live")
        row = driver.find_element(By.CSS_SELECTOR, '[data-instance="alpha/a1"]').text
        assert "127.0.0.1:7001" in row and "zone=eu-1" in row, row
        check(lambda d: "s of" in d.find_element(By.CSS_SELECTOR, '[data-instance="alpha/a1"]').text,
              "the lease's TTL left is shown")
        # Survives only if the page is not reloaded.
        driver.execute_script("window.notReloaded = true;")

        ask("REGISTER beta b1 127.0.0.1:7002")
        check(present('[data-instance="beta/b1"]'), "a registration made now appears")
        check(present('#timeline [data-kind="added"]'), "the timeline shows the addition")
        assert driver.execute_script("return window.notReloaded === true;"), "the page reloaded"
        if args.screenshot:
            time.sleep(1.5)  # a status sample with TTLs and health
            driver.save_screenshot(args.screenshot)

        ask("DEREGISTER beta b1")
        check(absent('[data-instance="beta/b1"]'), "a deregistration disappears")
        check(present('#timeline [data-kind="removed"]'), "the timeline shows the removal")
        assert driver.execute_script("return window.notReloaded === true;"), "the page reloaded"

        ask("STOP_ETCD")
        check(status_is("stale"), "the page says stale with etcd stopped")
        assert driver.find_element(By.ID, "banner").is_displayed(), "the stale banner is hidden"
        assert driver.find_elements(By.CSS_SELECTOR, '[data-instance="alpha/a1"]'), \
            "the last state was not kept"
        # A page opened while etcd is down shows the last known state, stale.
        driver.refresh()
        check(present('[data-instance="alpha/a1"]'), "a page opened with etcd down shows the last state")
        check(status_is("stale"), "a page opened with etcd down says stale")

        ask("START_ETCD")
        check(status_is("live"), "the page is live again once etcd is back")
        check(present('[data-instance="alpha/a1"]'), "the service is still listed")
        print("PASS", flush=True)
        return 0
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
