# The seed's Locust test, as its README describes it: NormalUser and HighLoadUser against the
# AIaaS platform's chat, health, analytics, billing and auth endpoints (a fixture for
# `hornet convert`; see tests/integration/it_convert.sh).
import random

from locust import HttpUser, between, tag, task

TENANT = "tenant_001"
HEADERS = {"X-Tenant-ID": "tenant_001", "Content-Type": "application/json"}


class NormalUser(HttpUser):
    weight = 3
    wait_time = between(1, 3)

    def on_start(self):
        self.client.post("/auth/login", json={"user_id": "user_001", "tenant_id": TENANT},
                         name="auth login")

    @tag("chat")
    @task(5)
    def chat(self):
        self.client.post("/chat/messages", json={"message": "Hello, I need help with my order",
                                                 "tenant_id": TENANT},
                         headers=HEADERS, name="chat message")

    @task(2)
    def health(self):
        self.client.get("/healthz")

    @tag("analytics")
    @task(1)
    def analytics(self):
        self.client.get("/analytics/kpi", params={"tenant_id": TENANT, "period": "1h"},
                        name="analytics kpi")

    @task(1)
    def billing(self):
        with self.client.get("/billing/usage", catch_response=True, name="billing usage") as r:
            if r.status_code != 200:
                r.failure("billing usage unavailable")

    @task(1)
    def auth_status(self):
        self.client.get("/auth/status", headers=HEADERS)


class HighLoadUser(HttpUser):
    weight = 1
    wait_time = between(0.1, 0.5)

    @task(3)
    def rapid_health(self):
        self.client.get("/healthz", name="rapid healthz")

    @task(1)
    def rapid_chat(self):
        message = random.choice(["What are your business hours?", "Hello"])
        self.client.post("/chat/messages", json={"message": message}, name="rapid chat")
