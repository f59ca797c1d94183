"""Notifications: render outbox events into bilingual messages and deliver them over one channel each.

``templates.render`` turns an outbox message into a ``Notification``; each channel module (``webhook``,
``wecom``, ``dingtalk``, ``feishu``, ``smtp``, ``sms``) sends one and answers an ``Outcome``;
``policy`` says when to try again and when to give up; ``registry.build_channel`` builds a channel from
a plain config dict. Nothing here reads the wall clock: channels that sign with a timestamp take a clock.
"""
