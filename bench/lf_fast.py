# Locust FastHttpUser, no think time: max-throughput GET /healthz (the peer for bench/run.sh).
from locust import FastHttpUser, task, constant


class Healthz(FastHttpUser):
    wait_time = constant(0)

    @task
    def healthz(self):
        self.client.get("/healthz")
