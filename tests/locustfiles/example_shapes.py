# The shapes of Locust's own example locustfiles (basic.py, fast_http_locust.py,
# sequential_taskset.py, dynamic_user_credentials, custom wait times), for `hornet convert`.
from locust import FastHttpUser, HttpUser, SequentialTaskSet, TaskSet, constant, constant_pacing, \
    constant_throughput, task


class UserTasks(TaskSet):
    @task(2)
    def index(self):
        self.client.get("/")

    @task
    def stats(self):
        self.client.get("/auth/status")


class WebsiteUser(HttpUser):
    host = "http://127.0.0.1:8089"
    wait_time = constant_pacing(0.5)
    tasks = [UserTasks]


class Checkout(SequentialTaskSet):
    @task
    def cart(self):
        self.client.get("/healthz", name="cart")

    @task
    def pay(self):
        self.client.put("/billing/usage/track", data={"amount": "10"}, name="pay")

    @task
    def receipt(self):
        self.client.request("GET", "/billing/invoices", name="receipt")


class Shopper(HttpUser):
    fixed_count = 1
    wait_time = constant(0.2)
    tasks = {Checkout: 1}


class Fast(FastHttpUser):
    wait_time = constant_throughput(5)

    @task
    def ping(self):
        self.client.get("/healthz", name="fast ping", timeout=5)

    @task
    def status(self):
        r = self.client.get("/auth/status")
        if r.status_code == 500:
            print("boom")
