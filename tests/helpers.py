"""A small process used by the runtime tests, and shortcuts for times and actors."""

from __future__ import annotations

from complaintflow.calendar import parse_local

TZ = "Asia/Shanghai"

MINI = """\
process: mini
version: 1
title: {zh: 小流程, en: Mini}
calendar: office
calendars:
  office: {weekdays: [mon, tue, wed, thu, fri], hours: ["09:00-18:00"], statutory: china}
roles:
  desk: {title: {zh: 前台}}
  head: {title: {zh: 部门负责人}}
  boss: {title: {zh: 公司领导}}
  board: {title: {zh: 董事会}}
fields:
  customer_name: {type: string, required: true, pii: true}
  severity: {type: enum, values: [general, major], required: true}
  amount: {type: number}
  result: {type: string}
  payout: {type: number}
states:
  received: {title: {zh: 受理}, initial: true, owner: desk}
  handling: {title: {zh: 处理中}, owner: head}
  waiting: {title: {zh: 等待客户}, pause: true}
  done: {title: {zh: 已完成}, owner: desk}
  closed: {title: {zh: 结案}, final: true}
actions:
  dispatch: {title: {zh: 派单}, from: received, to: handling, roles: [desk]}
  ask_customer: {title: {zh: 询问客户}, from: handling, to: waiting, roles: [head]}
  customer_answers: {title: {zh: 客户答复}, from: waiting, to: handling, roles: [desk]}
  finish: {title: {zh: 处理完毕}, from: handling, to: done, roles: [head], inputs: [result]}
  approve_big: {title: {zh: 大额批准}, from: handling, to: done, roles: [boss], guard: "amount >= 3000"}
  callback: {title: {zh: 回访}, from: done, to: closed, roles: [desk]}
  compensate: {title: {zh: 赔偿}, from: handling, to: done, roles: [boss], guard: "payout >= 3000", inputs: [payout]}
deadlines:
  forward:
    title: {zh: 3分钟内派单}
    start: received
    within: 3m
    warn_before: 1m
    escalation: chain
  handle:
    title: {zh: 4小时内处理完}
    start: handling
    stop: [done, closed]
    within: 4h
  callback:
    title: {zh: 2个工作日内回访}
    start: done
    within: 2wd
escalations:
  chain:
    title: {zh: 逐级上报}
    steps:
      - {role: head, do: notify, within: 5m}
      - {role: boss, do: reassign, within: 15m}
      - {role: board, do: notify}
"""


def at(text: str) -> int:
    return parse_local(text, TZ)


def ids(prefix: str = "c"):  # deterministic case ids for readable assertions
    counter = iter(range(1, 10**6))
    return lambda: f"{prefix}{next(counter)}"


def edit_store(path, *statements: tuple[str, tuple]) -> None:
    """Change a store file directly, as a person with the file (not the engine) would: in one transaction."""
    import sqlite3

    db = sqlite3.connect(path)
    with db:
        for sql, args in statements:
            db.execute(sql, args)
    db.close()
