from locust import User, task


class Custom(User):
    @task
    def t(self):
        pass
