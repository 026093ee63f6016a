"""The settings the test suite runs with: the project's, read in development mode
(DEBUG on when the settings are read: no HTTPS redirect, no SECRET_KEY needed),
whatever the shell or .env say. pytest-django then runs each test with DEBUG off,
as Django's test runner does. Tests of the production settings read them afresh
(tests/site/)."""

import os

os.environ["DEBUG"] = "true"

from loyalty_site.settings import *  # noqa: F403
