from django.apps import AppConfig


class PersonalisationConfig(AppConfig):
    name = "personalisation"

    def ready(self) -> None:
        from .jobs import register_jobs

        register_jobs()
