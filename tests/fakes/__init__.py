"""Fake WeCom, DingTalk, Feishu, webhook-receiver, SMS and SMTP servers on 127.0.0.1 for tests.

Each checks signatures exactly as the real service does, answers with the real error codes, can be told
to throttle its first N requests, and records what it received (``received``, ``count(delivery_id)``).
Import them from any test folder as ``from fakes.chat_robots import FakeWecom`` (tests/ is on sys.path
through tests/conftest.py's folder); ``fakes.fixtures`` has a pytest fixture for each.
"""
