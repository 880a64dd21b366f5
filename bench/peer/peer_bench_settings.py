# The original project's settings for a side-by-side sitting (bench/peer.py puts this directory on
# PYTHONPATH). DEBUG and GRAPHENE are set before the star-import because invoice_sys/settings.py
# imports graphene_django.views while it is itself being imported (a re-entrant settings read).
import os

DEBUG = False
GRAPHENE = {"SCHEMA": "invoice_sys.schema.schema"}
from invoice_sys.settings import *  # noqa: F401,F403,E402

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("PEER_DB", "perf_peer"),
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "127.0.0.1",
        "PORT": 5432,
    }
}
_REDIS = os.environ.get("PEER_REDIS_URL", "redis://127.0.0.1:6379/9")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": _REDIS,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}
CELERY_BROKER_URL = _REDIS
CELERY_RESULT_BACKEND = _REDIS
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "1000000000/day", "user": "1000000000/day",
                               "login": "1000000000/day"},
}
