"""The text of a new process file: a bundled process as template, or the smallest valid process.

``new_process_text`` is pure (text in, text out); the command line decides where the file and the
schema beside it go. The first line is a ``yaml-language-server`` modeline naming
``process.schema.json`` in the file's own folder, so an editor finds the schema wherever the
process file lives, with no network and no checkout of complaintflow.
"""

from __future__ import annotations

import re

SCHEMA_FILE_NAME = "process.schema.json"
MODELINE = f"# yaml-language-server: $schema={SCHEMA_FILE_NAME}"
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")

_MINIMAL = """\
# A new complaintflow process: rename the roles, states and actions after your own procedure.
# 新流程: 按贵公司的投诉处理规范改写角色、状态和动作。 `complaintflow validate {name}.yaml` checks it.
process: {name}
version: 1
title: {{zh: 投诉处理流程, en: Complaint handling}}
calendar: office
calendars:
  office: {{weekdays: [mon, tue, wed, thu, fri], hours: ["09:00-12:00", "13:30-18:00"], statutory: china}}
roles:
  front_desk: {{title: {{zh: 前台接待}}}}
states:
  received: {{title: {{zh: 受理登记}}, initial: true, owner: front_desk}}
  closed: {{title: {{zh: 结案归档}}, final: true}}
actions:
  close: {{title: {{zh: 结案}}, from: received, to: closed, roles: [front_desk]}}
deadlines:
  close_in_2wd: {{title: {{zh: 2个工作日内结案}}, start: received, within: 2wd}}
"""

_PROCESS_LINE = re.compile(r"^process:[ \t]*\S.*$", re.M)
_MODELINE = re.compile(r"^#\s*yaml-language-server:.*$\n?", re.M)


def new_process_text(name: str, template: str | None = None) -> str:
    """A process named ``name``: ``template`` (a process file's text) renamed, or the minimal one."""
    if template is None:
        body = _MINIMAL.format(name=name)
    else:
        body, count = _PROCESS_LINE.subn(f"process: {name}", _MODELINE.sub("", template, count=1), count=1)
        if not count:
            raise ValueError("the template has no top-level 'process:' line")
    return f"{MODELINE}\n{body}"
