# The side-by-side test (tests/integration/it_sidebyside.sh): run by Locust 2.12 as it is and by
# hornet after `hornet convert`, against the same demo target.
from locust import HttpUser, between, task


class Visitor(HttpUser):
    wait_time = between(0.05, 0.1)

    @task(3)
    def health(self):
        self.client.get("/healthz")

    @task(1)
    def status(self):
        self.client.get("/auth/status", name="auth status")

    @task(1)
    def usage(self):
        self.client.get("/billing/usage", name="billing usage")
